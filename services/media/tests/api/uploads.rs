//! Uploads end to end against a real S3 server: presigned PUT with a plain client, completion
//! with variants and their headers, lies and bombs refused, metadata stripped, deletion.

use image::ImageFormat;
use serde_json::json;

use crate::helpers::{TestApp, blank_png, jpeg_with_exif, picture};

#[tokio::test]
async fn an_upload_becomes_a_media_with_variants_each_stored_with_immutable_headers() {
    let app = TestApp::spawn().await;
    let (status, media) = app.upload("image/png", picture(1600, 900, ImageFormat::Png)).await;
    assert_eq!(status, 201, "{media}");
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(1600), Some(900)));
    let mut keys = vec![app.key_of(media["url"].as_str().unwrap())];
    for name in ["thumb", "medium", "large"] {
        for set in ["variants", "webp"] {
            let url = media[set][name].as_str().unwrap_or_else(|| panic!("{set}.{name}: {media}"));
            assert!(!url.contains('?'), "a public URL carries no query string: {url}");
            keys.push(app.key_of(url));
        }
    }
    for key in &keys {
        let (content_type, cache_control, length) = app.objects.head(key).await.unwrap().expect(key);
        let expected = if key.ends_with(".webp") {
            "image/webp"
        } else if key.ends_with(".jpg") {
            "image/jpeg"
        } else {
            "image/png"
        };
        assert_eq!(content_type, expected, "{key}");
        assert_eq!(cache_control, "public, max-age=31536000, immutable", "{key}");
        assert!(length > 0);
    }
    // The thumbnail fits 160 pixels and keeps the proportions.
    let thumb =
        app.objects.get(&app.key_of(media["variants"]["thumb"].as_str().unwrap()), 1 << 20).await.unwrap().unwrap();
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (160, 90));
    // The raw upload is gone; the media reads back the same, publicly.
    let raw: i64 = sqlx::query_scalar("select count(*) from uploads where media_id is not null")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(raw, 1);
    let id = media["media_id"].as_str().unwrap();
    let (status, read) = app.public.get(&format!("/media/{id}")).await;
    assert_eq!((status, &read["variants"]), (200, &media["variants"]));
    let events: Vec<String> =
        sqlx::query_scalar("select event_type from outbox order by created_at").fetch_all(&app.pool).await.unwrap();
    assert_eq!(events, ["MEDIA_UPLOADED", "AUDIT_RECORDED"], "the upload's audit entry in its transaction");

    // Completing again answers the same media; another staff member's upload is not found.
    let ticket = app.ticket("again.png", "image/png", 100).await;
    let id = ticket["upload_id"].as_str().unwrap();
    let (status, problem) = app.other_staff.post_json(&format!("/media/uploads/{id}/complete"), json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (status, problem) = app.complete(&ticket).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("upload_missing")), "nothing uploaded yet");

    // Deleting removes every object, and the media.
    let media_id = media["media_id"].as_str().unwrap();
    let response = app.staff.request(reqwest::Method::DELETE, &format!("/media/{media_id}")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    for key in &keys {
        assert_eq!(app.objects.head(key).await.unwrap(), None, "{key} is gone");
    }
    let (status, _) = app.public.get(&format!("/media/{media_id}")).await;
    assert_eq!(status, 404);
    let response = app.staff.request(reqwest::Method::DELETE, &format!("/media/{media_id}")).send().await.unwrap();
    assert_eq!(response.status(), 404, "deleting twice");
    // An id that is no UUID is the same 404 problem, never the framework's plain-text 400.
    let (status, problem) = app.public.get("/media/not-a-uuid").await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (status, problem) = app.staff.post_json("/media/uploads/not-a-uuid/complete", serde_json::json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn lies_oversized_bodies_and_decompression_bombs_are_refused_and_exif_never_survives() {
    let app = TestApp::spawn().await;

    // A PNG declared as a JPEG: the bytes decide.
    let png = picture(40, 30, ImageFormat::Png);
    let (status, problem) = app.upload("image/jpeg", png).await;
    assert_eq!((status, problem["code"].as_str()), (415, Some("unsupported_media_type")), "{problem}");

    // More bytes than signed: S3 itself refuses the PUT; nothing to complete.
    let bytes = picture(40, 30, ImageFormat::Png);
    let ticket = app.ticket("small.png", "image/png", bytes.len()).await;
    let mut bigger = bytes.clone();
    bigger.extend_from_slice(&[0u8; 4096]);
    let refused = app.put(&ticket, bigger).await;
    assert!(refused == 403 || refused == 400, "the store refused the larger body: {refused}");
    let (status, problem) = app.complete(&ticket).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("upload_missing")));

    // Too many pixels (a small file that would decode to a huge picture): refused from its header.
    let bomb = blank_png(3000, 2000);
    assert!(bomb.len() < 64 << 10, "a small file: {} bytes", bomb.len());
    let (status, problem) = app.upload("image/png", bomb).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("image_rejected")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("3000×2000"), "{problem}");

    // EXIF (with a GPS note) in, none out: not in the original, not in a variant.
    let note = "GPS 52.5200N 13.4050E secret-spot";
    let with_exif = jpeg_with_exif(note);
    assert!(with_exif.windows(4).any(|w| w == b"Exif"));
    let (status, media) = app.upload("image/jpeg", with_exif).await;
    assert_eq!(status, 201, "{media}");
    for url in [media["url"].as_str().unwrap(), media["variants"]["thumb"].as_str().unwrap()] {
        let stored = app.objects.get(&app.key_of(url), 1 << 20).await.unwrap().unwrap();
        assert!(!stored.windows(4).any(|w| w == b"Exif"), "{url} kept an EXIF segment");
        assert!(!stored.windows(note.len()).any(|w| w == note.as_bytes()), "{url} kept the GPS note");
    }

    // Bad requests are named.
    let (status, problem) =
        app.staff.post_json("/media/uploads", json!({"filename": "", "content_type": "image/gif", "size": 0})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["filename", "content_type", "size"]);
    let (status, _) = app
        .public
        .post_json("/media/uploads", json!({"filename": "a.png", "content_type": "image/png", "size": 10}))
        .await;
    assert_eq!(status, 403, "media:write is needed");
}

#[tokio::test]
async fn a_product_shows_its_image_urls_once_the_upload_is_announced() {
    let app = TestApp::spawn().await;
    let index = tempfile::tempdir().unwrap();
    let (catalog, search) = app.catalog_and_search(index.path()).await;
    let (status, media) = app.upload("image/jpeg", picture(800, 600, ImageFormat::Jpeg)).await;
    assert_eq!(status, 201, "{media}");
    let body = json!({
        "slug": "framed-ferris", "title": "Framed Ferris", "status": "active", "images": [media["media_id"]],
        "variants": [{"sku": "FRAMED-FERRIS", "price_minor": 2500}],
    });
    let (status, product) = catalog.post_json("/products", body).await;
    assert_eq!(status, 201, "{product}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, detail) = catalog.get("/products/framed-ferris").await;
        if detail["image_urls"][0]["url"] == media["url"] {
            assert_eq!(detail["image_urls"][0]["variants"], media["variants"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the product never showed the image: {detail}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, listing) = catalog.get("/products?limit=5").await;
    assert_eq!(listing["items"][0]["image_url"], media["variants"]["medium"], "{listing}");
    // Search shows it too (the product was indexed before or after the URL arrived).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, found) = search.get("/search?q=ferris").await;
        if found["items"][0]["image_url"] == media["variants"]["medium"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "search never showed the image: {found}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Deleted: the product keeps the id but shows no URL for it.
    let id = media["media_id"].as_str().unwrap();
    let response = app.staff.request(reqwest::Method::DELETE, &format!("/media/{id}")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, detail) = catalog.get("/products/framed-ferris").await;
        let (_, found) = search.get("/search?q=ferris").await;
        if detail["image_urls"].as_array().is_some_and(Vec::is_empty) && found["items"][0]["image_url"].is_null() {
            assert_eq!(detail["images"][0], media["media_id"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the deleted image stayed: {detail}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_upload_never_completed_is_swept_with_its_raw_object() {
    let app = TestApp::spawn().await;
    let bytes = picture(20, 20, ImageFormat::Png);
    let ticket = app.ticket("forgotten.png", "image/png", bytes.len()).await;
    assert_eq!(app.put(&ticket, bytes).await, 200);
    let raw_key = format!("uploads/{}", ticket["upload_id"].as_str().unwrap());
    assert!(app.objects.head(&raw_key).await.unwrap().is_some());
    let grace = std::time::Duration::from_secs(60);
    assert_eq!(media::sweep_abandoned(&app.pool, &app.objects, grace).await.unwrap(), 0, "not expired yet");
    sqlx::query("update uploads set expires_at = now() - interval '2 minutes'").execute(&app.pool).await.unwrap();
    assert_eq!(media::sweep_abandoned(&app.pool, &app.objects, grace).await.unwrap(), 1);
    assert_eq!(app.objects.head(&raw_key).await.unwrap(), None, "the raw object is gone");
    let (status, problem) = app.complete(&ticket).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")), "the upload is forgotten");
}

/// Review f5592e3 L6: the upload's row is not held while it is fetched, decoded and stored.
/// Completions of one upload that race are decoded without each other's lock and end as one
/// media, every answer naming it; while they run, the upload's row is never locked for long.
#[tokio::test]
async fn racing_completions_hold_no_lock_while_processing_and_make_one_media() {
    let app = TestApp::spawn().await;
    let bytes = picture(1800, 1200, ImageFormat::Png);
    let ticket = app.ticket("race.png", "image/png", bytes.len()).await;
    assert_eq!(app.put(&ticket, bytes).await, 200);
    let id = ticket["upload_id"].as_str().unwrap().to_owned();
    let path = format!("/media/uploads/{id}/complete");
    let (a, b, locked) =
        tokio::join!(app.staff.post_json(&path, json!({})), app.staff.post_json(&path, json!({})), async {
            // Meanwhile: the upload's row can be locked at once (nowait) all along.
            let mut refused = 0;
            for _ in 0..20 {
                let mut tx = app.pool.begin().await.unwrap();
                let taken = sqlx::query("select 1 from uploads where id = $1::uuid for update nowait")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await;
                refused += usize::from(taken.is_err());
                tx.rollback().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            refused
        });
    assert!([a.0, b.0].iter().all(|s| *s == 200 || *s == 201), "{a:?} {b:?}");
    assert_eq!(a.1["media_id"], b.1["media_id"], "one media");
    let media: i64 = sqlx::query_scalar("select count(*) from media").fetch_one(&app.pool).await.unwrap();
    assert_eq!(media, 1);
    assert!(locked <= 2, "the row was held while processing ({locked} of 20 probes found it locked)");
}
