//! Database isolation: a service's role reaches its own schema and nothing else.

use testkit::TestDb;

#[tokio::test]
async fn the_product_role_cannot_read_the_auth_schema() {
    let db = TestDb::new().await;
    let product = db.pool_as("product").await;
    sqlx::query("select count(*) from products").execute(&product).await.expect("its own schema");
    for sql in
        ["select * from auth.users", "select * from auth._sqlx_migrations", "create table public.sneaky (id int)"]
    {
        let error = sqlx::query(sql).execute(&product).await.expect_err(sql);
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
    }
    // And the reverse: auth cannot read the catalog.
    let auth = db.pool_as("auth").await;
    let error = sqlx::query("select * from catalog.products").execute(&auth).await.unwrap_err();
    assert!(error.to_string().contains("permission denied"), "{error}");
}
