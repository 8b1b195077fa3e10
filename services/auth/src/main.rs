//! Runs the auth service; `auth create-admin --email ADDRESS` instead creates the first
//! administrator and prints its password, TOTP enrolment and recovery codes once (as JSON);
//! `auth rotate-keys` publishes a new access-token signing key in the shared key ring.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("create-admin") {
        return create_admin(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("rotate-keys") {
        return rotate_keys();
    }
    service_kit::run_main(auth::SERVICE, || async { auth::build(auth::AuthConfig::from_env()?).await })
}

fn create_admin(args: &[String]) -> ExitCode {
    let email = match args {
        [flag, email] if flag == "--email" => email.clone(),
        _ => {
            eprintln!("usage: auth create-admin --email ADDRESS");
            return ExitCode::from(2);
        }
    };
    let config = match auth::AuthConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("auth create-admin: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime =
        service_kit::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(auth::create_admin(&config, &email)) {
        Ok(created) => {
            println!("{}", serde_json::to_string_pretty(&created).expect("JSON"));
            eprintln!("auth create-admin: shown once; store the password, TOTP secret and recovery codes safely.");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("auth create-admin: {error}");
            ExitCode::FAILURE
        }
    }
}

fn rotate_keys() -> ExitCode {
    let config = match auth::AuthConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("auth rotate-keys: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime =
        service_kit::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(auth::rotate_keys(&config)) {
        Ok(rotated) => {
            println!("{rotated}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("auth rotate-keys: {error}");
            ExitCode::FAILURE
        }
    }
}
