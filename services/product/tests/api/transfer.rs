//! CSV export and import: the export reads back unchanged, the import is idempotent by SKU, all
//! or nothing, and names every bad row by line and column.

use reqwest::Method;

use crate::helpers::TestApp;

async fn import(app: &TestApp, csv: String) -> (u16, serde_json::Value) {
    let response = app
        .staff
        .request(Method::POST, "/products/import")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn export(app: &TestApp) -> String {
    let response = app.staff.request(Method::GET, "/products/export").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    response.text().await.unwrap()
}

const HEADER: &str = "product_slug,title,status,brand,categories,description,attributes,sku,options,price_minor,compare_at_minor,weight_grams,barcode";

#[tokio::test]
async fn the_export_imports_back_unchanged_and_an_import_adds_and_updates_by_sku() {
    let app = TestApp::seeded().await;
    let exported = export(&app).await;
    assert_eq!(exported.lines().next(), Some(HEADER));
    assert_eq!(exported.matches(",DEMO-").count(), 144, "a row per demo variant (descriptions span lines)");
    let (_, before) = app.get("/products/async-tokio-mug").await;

    let (status, report) = import(&app, exported.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["created_products"].as_i64(), report["updated_variants"].as_i64()), (Some(0), Some(144)));
    assert_eq!(export(&app).await, exported, "re-importing the export changes nothing");
    let (_, after) = app.get("/products/async-tokio-mug").await;
    assert_eq!(after["variants"], before["variants"]);

    let csv = format!(
        "{HEADER}\n\
         trail-cap,Trail Cap,active,Ferrous,caps,**Light**,\"{{\"\"color\"\": \"\"black\"\"}}\",TC-1,\"{{\"\"size\"\": \"\"S\"\"}}\",2100,,80,\n\
         trail-cap,,,,,,,TC-2,\"{{\"\"size\"\": \"\"L\"\"}}\",2300,,,\n\
         async-tokio-mug,Async Tokio Mug,active,Oxide Goods,mugs,A mug.,,DEMO-0014-300ML,\"{{\"\"volume\"\": \"\"300 ml\"\"}}\",999,,,\n"
    );
    let (status, report) = import(&app, csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created_products"], 1);
    assert_eq!(report["created_variants"], 2);
    assert_eq!(report["updated_products"], 1);
    let (_, cap) = app.get("/products/trail-cap").await;
    assert_eq!(cap["variants"].as_array().unwrap().len(), 2);
    assert_eq!(cap["categories"][0]["slug"], "caps");
    assert_eq!(cap["attributes"]["color"], "black");
    let (_, mug) = app.get("/products/async-tokio-mug").await;
    assert_eq!(mug["variants"][0]["price_minor"], 999, "the cache was invalidated by the import");
    assert_eq!(mug["variants"].as_array().unwrap().len(), 2, "variants not in the file are kept");
}

#[tokio::test]
async fn a_bad_file_writes_nothing_and_names_every_bad_row() {
    let app = TestApp::seeded().await;
    let csv = format!(
        "{HEADER}\n\
         new-one,New One,active,,caps,,,NEW-1,,100,,,\n\
         new-two,New Two,live,,,,,NEW-2,,ten,,,\n\
         new-three,New Three,active,,nowhere,,\"{{\"\"color\"\": \"\"pink\"\"}}\",DEMO-0001-M,,100,,,\n\
         new-one,Other Title,active,,,,,NEW-1,,100,,,\n"
    );
    let (status, problem) = import(&app, csv.clone()).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["rows[3].status", "rows[3].price_minor", "rows[5].sku", "rows[5].product_slug"],
        "the file's own errors first"
    );
    let fixed = csv.replace("live", "active").replace(",ten,", ",10,").replace("NEW-1,,100,,,\n\"", "");
    let fixed: String = fixed.lines().take(4).map(|l| format!("{l}\n")).collect();
    let (status, problem) = import(&app, fixed).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["rows[4].sku", "rows[4].categories", "rows[4].attributes.color"],
        "what only the catalog can tell, by line too"
    );
    let (status, _) = app.get("/products/new-one").await;
    assert_eq!(status, 404, "nothing of a refused file is written");

    let response =
        app.staff.request(Method::POST, "/products/import").json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .caller
        .request(Method::POST, "/products/import")
        .header("content-type", "text/csv")
        .body(HEADER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, problem) = import(&app, "sku,title\nX,Y\n".into()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("header")));
}

#[tokio::test]
async fn a_file_larger_than_a_json_body_is_imported() {
    let app = TestApp::spawn().await;
    let mut csv = format!("{HEADER}\n");
    for n in 0..400 {
        csv.push_str(&format!(
            "bulk-{n},Bulk product number {n} with a long enough title,active,Ferrous,,{},,BULK-{n},,{},,,\n",
            "d".repeat(200),
            100 + n
        ));
    }
    assert!(csv.len() > 100 * 1024);
    let (status, report) = import(&app, csv).await;
    assert_eq!((status, report["created_products"].as_i64()), (200, Some(400)), "{report}");
}
