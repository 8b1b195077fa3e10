//! The OpenAPI document against the code. Every service's description comes from its routers
//! (utoipa-axum builds the router and the description from the same handlers, so a route
//! without a description, or a description without a route, cannot be built); here the merged
//! document must equal the one the gateway serves (`services/gateway/openapi.json`;
//! `cargo xtask openapi` writes it), every operation must be routed by the route table to its
//! own service, and every route-table entry of a built service must match an operation.

use service_kit::FleetService;
use std::path::{Path, PathBuf};

use axum::http::Method;
use gateway::route_table::ROUTES;
use serde_json::Value;

/// Route-table entries whose routes are not built yet; each leaves this list in the commit that
/// builds it (the test fails while a listed entry matches an operation).
const PENDING: &[&str] = &[];

fn document_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../services/gateway/openapi.json")
}

/// A service's own description (service paths) as JSON, under its name in the fleet table.
fn document<S: FleetService>() -> (&'static str, Value) {
    (S::NAME, serde_json::to_value(S::openapi()).expect("serializable"))
}

/// Every service's own description, from the services' types (the gateway describes none of
/// its own: it serves the merged one).
fn service_documents() -> Vec<(&'static str, Value)> {
    vec![
        document::<auth::Service>(),
        document::<user::Service>(),
        document::<product::Service>(),
        document::<inventory::Service>(),
        document::<cart::Service>(),
        document::<order::Service>(),
        document::<payment::Service>(),
        document::<admin::Service>(),
        document::<notification::Service>(),
        document::<search::Service>(),
        document::<analytics::Service>(),
        document::<cms::Service>(),
        document::<media::Service>(),
    ]
}

#[test]
fn the_fleet_table_names_exactly_the_services_types() {
    let mut typed: Vec<&str> = service_documents().into_iter().map(|(name, _)| name).collect();
    typed.push(<gateway::Service as FleetService>::NAME);
    typed.sort_unstable();
    let mut table: Vec<&str> = service_kit::SERVICES.iter().map(|s| s.name).collect();
    table.sort_unstable();
    assert_eq!(typed, table, "every row of the fleet table is a service type, and each type a row");
}

fn merged() -> Value {
    let (document, drift) = gateway::spec::merge(&service_documents());
    assert!(drift.is_empty(), "the services' descriptions and the route table disagree:\n{}", drift.join("\n"));
    document
}

#[test]
fn the_served_document_is_the_one_the_code_describes() {
    let document = merged();
    let path = document_path();
    if std::env::var_os("SHOPFLEET_UPDATE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&document).expect("JSON") + "\n";
        std::fs::write(&path, text).expect("write openapi.json");
        return;
    }
    let served: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read openapi.json"))
        .expect("openapi.json is JSON");
    assert!(
        served == document,
        "services/gateway/openapi.json is stale: run `cargo xtask openapi` and commit it with the routes"
    );
}

/// The operations of the merged document as (method, service path) pairs.
fn operations(document: &Value) -> Vec<(Method, Vec<String>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let Some(service_path) = path.strip_prefix("/api/v1") else { continue };
        for method in item.as_object().expect("path item").keys() {
            if let Ok(method) = method.to_ascii_uppercase().parse::<Method>() {
                let segments = service_path.trim_start_matches('/').split('/').map(str::to_owned).collect();
                found.push((method, segments));
            }
        }
    }
    found
}

#[test]
fn every_route_table_entry_of_a_built_service_matches_an_operation() {
    let operations = operations(&merged());
    let mut problems = Vec::new();
    for entry in ROUTES {
        let matched = operations.iter().any(|(method, segments)| {
            entry.methods.list().contains(&method.as_str()) && entry.matches(method, segments)
        });
        let pending = PENDING.contains(&entry.pattern);
        match (matched, pending) {
            (false, false) => problems.push(format!("{} {:?} matches no operation", entry.pattern, entry.methods)),
            (true, true) => problems.push(format!("{} is built: take it off PENDING", entry.pattern)),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 23: fuzzing found 8 operations that read a JSON body without their 400 in the document.
/// Every operation whose body the JSON extractor reads lists each answer of the extractor.
#[test]
fn every_operation_that_reads_a_json_body_lists_the_extractors_statuses() {
    let document = merged();
    let mut missing = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") else { continue };
            if schema.get("type").and_then(Value::as_str) == Some("string") {
                continue; // a raw body (a provider's webhook), not the extractor's
            }
            for (status, code, _) in problem::BODY_PROBLEMS {
                let response = &operation["responses"][status.to_string()];
                let text = response["description"].as_str().unwrap_or_default();
                if response.is_null() || !(text.contains(code.as_str()) || response.get("$ref").is_some()) {
                    missing.push(format!("{method} {path}: {status} `{code}`"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{} missing:\n{}", missing.len(), missing.join("\n"));
}

#[test]
fn every_operation_declares_its_problems_as_problem_json() {
    let document = merged();
    let mut problems = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                let declared =
                    response.get("$ref").is_some() || response.pointer("/content/application~1problem+json").is_some();
                if is_error && !declared {
                    problems.push(format!("{method} {path} {status} is not problem+json"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
