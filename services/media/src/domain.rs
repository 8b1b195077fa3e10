//! The media service's pure rules: what may be uploaded (the request's checks), what an upload
//! really is (sniffed from its bytes, never from what the client declared), whether it is safe
//! to decode (pixel limits against decompression bombs, checked from the header before any
//! decoding), and the re-encoding that drops every piece of metadata (EXIF, GPS) while keeping
//! the picture upright, with its variants and content-hashed keys.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use service_kit::{FieldCode, FieldErrors};
use sha2::{Digest, Sha256};

/// The types an upload may have (declared, and then found in its bytes).
pub const TYPES: &[(&str, ImageFormat, &str)] = &[
    ("image/jpeg", ImageFormat::Jpeg, "jpg"),
    ("image/png", ImageFormat::Png, "png"),
    ("image/webp", ImageFormat::WebP, "webp"),
];

/// What an upload asks for.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// Checks an upload request against the limits; every bad field named.
pub fn check_upload(request: &UploadRequest, max_bytes: i64, errors: &mut FieldErrors) {
    let name = request.filename.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        errors.push("filename", FieldCode::InvalidLength, "a file name of 1 to 200 characters, no control characters");
    }
    if !TYPES.iter().any(|(mime, ..)| *mime == request.content_type) {
        errors.push("content_type", FieldCode::InvalidValue, "image/jpeg, image/png or image/webp");
    }
    if request.size <= 0 || request.size > max_bytes {
        errors.push("size", FieldCode::OutOfRange, format!("1 to {max_bytes} bytes"));
    }
}

/// The type the bytes really are, if one we take.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, ImageFormat, &'static str)> {
    let format = image::guess_format(bytes).ok()?;
    TYPES.iter().find(|(_, f, _)| *f == format).copied()
}

/// Why an upload cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejected {
    /// 415: the bytes are not an image of a type we take, or not the type declared.
    #[error("{0}")]
    Type(String),
    /// 422: undecodable, too many pixels, not the size declared.
    #[error("{0}")]
    Image(String),
}

/// The limits an upload is decoded under.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Most pixels (width × height).
    pub max_pixels: u64,
    /// Most pixels along either side.
    pub max_side: u32,
}

/// A stored rendition: its bytes, type and extension, and size.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A variant: the picture scaled to fit a square of its size, as JPEG and as WebP.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub jpeg: Rendition,
    pub webp: Rendition,
}

/// An upload made safe: the re-encoded original and its variants.
#[derive(Debug, Clone)]
pub struct Processed {
    pub original: Rendition,
    pub variants: Vec<Variant>,
    /// A digest of the re-encoded original, the stem of every key.
    pub digest: String,
}

/// Checks and re-encodes an upload that claimed to be `declared`: its real type must be that
/// one; its pixels are counted from the header before anything is decoded; the decoder runs
/// under an allocation limit; the result carries no metadata (EXIF orientation applied first).
pub fn process(
    bytes: &[u8],
    declared: &str,
    limits: ImageLimits,
    variants: &[(String, u32)],
) -> Result<Processed, Rejected> {
    let (mime, format, _) =
        sniff(bytes).ok_or_else(|| Rejected::Type("the file is not a JPEG, PNG or WebP image".into()))?;
    if mime != declared {
        return Err(Rejected::Type(format!("the file is {mime}, not the {declared} declared")));
    }
    let reader = ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader.into_dimensions().map_err(|e| Rejected::Image(format!("unreadable image: {e}")))?;
    if width == 0 || height == 0 {
        return Err(Rejected::Image("the image has no pixels".into()));
    }
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Rejected::Image(format!(
            "{width}×{height} pixels is more than allowed (at most {} pixels, {} per side)",
            limits.max_pixels, limits.max_side
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    // Room for the decoded pixels (RGBA, 16-bit at most) and the decoder's own buffers.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(|e| Rejected::Image(format!("unreadable image: {e}")))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture =
        DynamicImage::from_decoder(decoder).map_err(|e| Rejected::Image(format!("undecodable image: {e}")))?;
    picture.apply_orientation(orientation);
    let original = encode(&picture, format)?;
    let digest = hex(&Sha256::digest(&original.bytes))[..32].to_owned();
    let mut out = Vec::new();
    for (name, side) in variants {
        let scaled = if picture.width() > *side || picture.height() > *side {
            picture.resize(*side, *side, image::imageops::FilterType::Lanczos3)
        } else {
            picture.clone()
        };
        out.push(Variant {
            name: name.clone(),
            jpeg: encode(&scaled, ImageFormat::Jpeg)?,
            webp: encode(&scaled, ImageFormat::WebP)?,
        });
    }
    Ok(Processed { original, variants: out, digest })
}

/// Encodes `picture` afresh (so nothing of the upload's metadata survives).
fn encode(picture: &DynamicImage, format: ImageFormat) -> Result<Rendition, Rejected> {
    let (content_type, extension) = match format {
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Png => ("image/png", "png"),
        _ => ("image/webp", "webp"),
    };
    // JPEG has no alpha; WebP's encoder takes 8-bit RGB(A).
    let prepared = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(picture.to_rgb8()),
        ImageFormat::WebP if picture.color().has_alpha() => DynamicImage::ImageRgba8(picture.to_rgba8()),
        ImageFormat::WebP => DynamicImage::ImageRgb8(picture.to_rgb8()),
        _ => picture.clone(),
    };
    let mut bytes = Vec::new();
    let encoded = match format {
        ImageFormat::Jpeg => {
            prepared.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85))
        }
        _ => prepared.write_to(&mut Cursor::new(&mut bytes), format),
    };
    encoded.map_err(|e| Rejected::Image(format!("cannot encode the image: {e}")))?;
    Ok(Rendition { bytes, content_type, extension, width: picture.width(), height: picture.height() })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The object key of a rendition: immutable, named by the original's digest.
pub fn key(digest: &str, name: &str, extension: &str) -> String {
    format!("media/{digest}/{name}.{extension}")
}

/// Parses `thumb=160,medium=640,large=1280`.
pub fn parse_variants(text: &str) -> Option<Vec<(String, u32)>> {
    text.split(',')
        .map(|part| {
            let (name, side) = part.trim().split_once('=')?;
            let side: u32 = side.trim().parse().ok().filter(|s| (16..=4096).contains(s))?;
            let name = name.trim();
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .then(|| (name.to_owned(), side))
        })
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = DynamicImage::new_rgb8(width, height);
        let mut bytes = Vec::new();
        picture.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        bytes
    }

    const LIMITS: ImageLimits = ImageLimits { max_pixels: 4_000_000, max_side: 4000 };

    #[test]
    fn the_bytes_decide_the_type_not_the_declaration() {
        let bytes = png(20, 10);
        assert_eq!(sniff(&bytes).map(|t| t.0), Some("image/png"));
        let lying = process(&bytes, "image/jpeg", LIMITS, &[]).unwrap_err();
        assert!(matches!(lying, Rejected::Type(_)), "{lying:?}");
        assert!(matches!(process(b"GIF89a....", "image/png", LIMITS, &[]), Err(Rejected::Type(_))));
    }

    #[test]
    fn too_many_pixels_are_refused_before_decoding_and_variants_never_upscale() {
        let big = png(3000, 2000);
        let refused = process(&big, "image/png", LIMITS, &[]).unwrap_err();
        assert!(matches!(refused, Rejected::Image(ref m) if m.contains("3000×2000")), "{refused:?}");
        let variants = [("thumb".to_owned(), 16), ("large".to_owned(), 1280)];
        let done = process(&png(40, 20), "image/png", LIMITS, &variants).unwrap();
        assert_eq!((done.original.width, done.original.height, done.original.content_type), (40, 20, "image/png"));
        assert_eq!((done.variants[0].jpeg.width, done.variants[0].jpeg.height), (16, 8));
        assert_eq!((done.variants[1].webp.width, done.variants[1].webp.height), (40, 20), "not upscaled");
        assert_eq!(sniff(&done.variants[1].webp.bytes).map(|t| t.0), Some("image/webp"));
        assert_eq!(done.digest.len(), 32);
    }

    #[test]
    fn requests_and_variant_settings_are_checked() {
        let mut errors = FieldErrors::default();
        let request = UploadRequest { filename: " ".into(), content_type: "image/gif".into(), size: 0 };
        check_upload(&request, 1000, &mut errors);
        let fields: Vec<String> = errors.into_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["filename", "content_type", "size"]);
        assert_eq!(parse_variants("thumb=160, medium=640"), Some(vec![("thumb".into(), 160), ("medium".into(), 640)]));
        assert_eq!(parse_variants("thumb=0"), None);
        assert_eq!(key("ab", "thumb", "jpg"), "media/ab/thumb.jpg");
    }
}
