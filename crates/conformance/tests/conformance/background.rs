//! What each service runs beside its routes is what its `FleetService` type declares: the
//! outbox relay (`PRODUCES`), the streams its consumer reads (`CONSUMES`) and its jobs by name
//! (`JOBS`), as the started service reports them; and the Redis ACLs grant each exactly the
//! streams its type declares.

use conformance::Conforming;
use service_kit::redis_acl;
use testkit::TestDb;

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort_unstable();
    items
}

async fn runs_what_it_declares<S: Conforming>() {
    let db = TestDb::new().await;
    let app = conformance::build_service::<S>(&db).await.unwrap_or_else(|e| panic!("{} starts: {e}", S::NAME));
    let started = app.background_parts();
    let declared: Vec<String> = S::CONSUMES.iter().map(|domain| (*domain).to_owned()).collect();
    assert_eq!(sorted(&started.consumes), sorted(&declared), "{}: the streams its consumer reads", S::NAME);
    assert_eq!(started.relays, S::PRODUCES, "{}: whether it relays an outbox", S::NAME);
    assert_eq!(sorted(&started.jobs), sorted(S::JOBS), "{}: its background jobs", S::NAME);

    assert_eq!(redis_acl::PRODUCES.contains(&S::NAME), S::PRODUCES, "{}: the ACLs' producers", S::NAME);
    let granted = redis_acl::CONSUMES.iter().find(|(name, _)| *name == S::NAME).map_or(&[][..], |(_, streams)| streams);
    assert_eq!(sorted(granted), sorted(S::CONSUMES), "{}: the streams the ACLs let it read", S::NAME);
    app.run_until(async {}).await.expect("stops");
}

/// One test per service type (the gateway's JWKS refresher included), so a failure names it.
macro_rules! each_runs_what_it_declares {
    ($($service:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $service() {
            runs_what_it_declares::<$service::Service>().await;
        }
    )+};
}

mod runs_what_its_type_declares {
    use super::runs_what_it_declares;

    each_runs_what_it_declares!(
        auth,
        user,
        product,
        inventory,
        cart,
        order,
        payment,
        admin,
        notification,
        search,
        analytics,
        cms,
        media,
        gateway,
    );
}
