//! The role × route matrix of the back office, end to end through the gateway and the real
//! admin service (behind it the real auth; analytics, order and payment down): every admin route
//! refuses an anonymous caller (401) and a shopper (403), and each staff role reaches exactly the
//! routes its permissions open. "Reaches" means neither layer refused it: the answer is the
//! route's own (200, 201, 404) or 503 from an owner that is down, never 401 or 403.

use std::collections::BTreeSet;

use auth_jwt::Role;
use service_kit::{Permission, StaffRole};

use crate::helpers::{TestGateway, claims, sign};

/// Every admin route and what it needs besides `admin:access`: the specification the test
/// holds the code to (written out, not read from the route table it checks).
const MATRIX: &[(&str, &str, &[Permission])] = &[
    ("GET", "/admin/dashboard/summary", &[Permission::AnalyticsRead]),
    ("GET", "/admin/dashboard", &[Permission::AnalyticsRead]),
    ("GET", "/admin/audit-log", &[Permission::AuditRead]),
    ("GET", "/admin/staff", &[Permission::StaffWrite]),
    ("POST", "/admin/staff", &[Permission::StaffWrite]),
    ("GET", "/admin/customers", &[Permission::CustomersRead]),
    ("GET", "/admin/customers/{id}", &[Permission::CustomersRead]),
    ("GET", "/admin/customers/{id}/orders", &[Permission::CustomersRead, Permission::OrdersRead]),
    ("POST", "/admin/customers/{id}/disable", &[Permission::CustomersWrite]),
    ("POST", "/admin/customers/{id}/enable", &[Permission::CustomersWrite]),
    ("GET", "/admin/orders/{id}", &[Permission::OrdersRead]),
];

/// Who calls: nobody, a shopper, or a staff role.
#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    Shopper,
    Staff(StaffRole),
}

fn token(gw: &TestGateway, who: Who) -> Option<String> {
    let mut claims = claims();
    match who {
        Who::Anonymous => return None,
        Who::Shopper => {}
        Who::Staff(role) => {
            claims.role = if role == StaffRole::Admin { Role::Admin } else { Role::Staff };
            claims.perms = role.permission_names();
            claims.exp = claims.iat + 300;
        }
    }
    Some(sign(&gw.kid, &claims))
}

async fn call(gw: &TestGateway, method: &str, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let id = uuid::Uuid::now_v7().to_string();
    let mut url = gw.url(&format!("/api/v1{}", path.replace("{id}", &id)));
    if path == "/admin/customers" {
        url.push_str("?email=nobody%40example.com");
    }
    let body = match path {
        "/admin/staff" => serde_json::json!({"email": format!("{id}@example.com"), "role": "support"}),
        _ => serde_json::json!({"reason": "matrix"}),
    };
    let mut request = match method {
        "GET" => gw.http.get(url),
        _ => gw.http.post(url).json(&body),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn every_admin_route_refuses_strangers_and_shoppers_and_each_role_reaches_exactly_its_routes() {
    // The matrix covers every route the admin service describes (a new route must join it).
    let described: BTreeSet<(String, String)> = admin::openapi()
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let mut methods = Vec::new();
            if item.get.is_some() {
                methods.push("GET");
            }
            if item.post.is_some() {
                methods.push("POST");
            }
            if item.put.is_some() || item.patch.is_some() || item.delete.is_some() {
                methods.push("OTHER");
            }
            methods.into_iter().map(move |m| (m.to_owned(), path.clone()))
        })
        .collect();
    let listed: BTreeSet<(String, String)> = MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    assert_eq!(described, listed, "the matrix lists exactly the admin service's routes");

    let admin_port = testkit::unused_port();
    let admin_addr: std::net::SocketAddr = format!("127.0.0.1:{admin_port}").parse().unwrap();
    let gw = TestGateway::spawn_with(1, |config| testkit::point_at(&mut config.service, "admin", admin_addr)).await;
    let mut service = testkit::service_config("admin", Some(&gw.db));
    service.bind = admin_addr;
    testkit::point_at(&mut service, "auth", gw.auth_addr);
    admin::build(admin::AdminConfig::new(service)).await.unwrap().spawn();

    let mut callers = vec![Who::Anonymous, Who::Shopper];
    callers.extend(StaffRole::ALL.iter().map(|r| Who::Staff(*r)));
    let mut failures = Vec::new();
    for who in callers {
        let token = token(&gw, who);
        for (method, path, needs) in MATRIX {
            let (status, body) = call(&gw, method, path, token.as_deref()).await;
            let expected = match who {
                Who::Anonymous => Some(401),
                Who::Shopper => Some(403),
                Who::Staff(role) if needs.iter().all(|p| role.holds(*p)) => None,
                Who::Staff(_) => Some(403),
            };
            let ok = match expected {
                Some(refused) => status == refused,
                None => ![401, 403].contains(&status) && status < 500 || status == 503,
            };
            if !ok {
                failures.push(format!("{who:?} {method} {path}: {status} {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
}
