//! The cms service's pure rules: what a page, a block, a menu and a snippet may hold, and how a
//! draft is rendered into what the public sees (Markdown to sanitized HTML, media ids to their
//! URLs). No HTTP, no SQL.

use std::collections::HashMap;

use contracts::media::MediaInfo;
use serde::{Deserialize, Serialize};
use service_kit::{FieldCode, FieldErrors};
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_BLOCKS: usize = 100;
pub const MAX_MARKDOWN: usize = 100_000;
pub const MAX_GRID: usize = 48;
pub const MAX_MENU_ITEMS: usize = 200;
pub const MAX_MENU_DEPTH: usize = 3;

/// A slug or a name: lowercase letters and digits in words joined by single hyphens.
pub fn check_slug(field: &str, value: &str, max: usize, errors: &mut FieldErrors) {
    let words_ok = !value.is_empty()
        && value
            .split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if value.len() > max {
        errors.push(field, FieldCode::InvalidLength, format!("at most {max} characters"));
    } else if !words_ok {
        errors.push(field, FieldCode::InvalidValue, "lowercase letters and digits, words joined by single hyphens");
    }
}

/// Text between `min` and `max` characters with no control characters (newlines allowed when
/// `multiline`).
fn check_text(field: &str, value: &str, (min, max): (usize, usize), multiline: bool, errors: &mut FieldErrors) {
    let length = value.trim().chars().count();
    if length < min || value.chars().count() > max {
        let message = if min == 0 { format!("at most {max} characters") } else { format!("{min} to {max} characters") };
        errors.push(field, FieldCode::InvalidLength, message);
    } else if value.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        errors.push(field, FieldCode::InvalidCharacters, "no control characters");
    }
}

/// A link as staff write it: where it goes and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// `https:`, `http:`, `mailto:` or a path on the storefront (`/sale`).
    pub href: String,
    pub label: String,
}

impl Link {
    fn check(&self, field: &str, errors: &mut FieldErrors) {
        check_text(&format!("{field}.label"), &self.label, (1, 100), false, errors);
        if self.href.trim().is_empty() || self.href.len() > 2000 {
            errors.push(format!("{field}.href"), FieldCode::InvalidLength, "1 to 2000 characters");
        } else if !markdown::is_safe_url(&self.href) || self.href.chars().any(char::is_control) {
            errors.push(format!("{field}.href"), FieldCode::InvalidValue, "an http(s) or mailto address, or a path");
        }
    }
}

/// One question of an FAQ block; the answer is Markdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqItem {
    pub question: String,
    pub answer_markdown: String,
}

/// A block of a page as staff write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// Rich text in Markdown (CommonMark with tables and strikethrough); raw HTML is shown as text.
    Markdown { markdown: String },
    /// An uploaded image (a media id from `POST /media/uploads/{id}/complete`).
    Image {
        media_id: Uuid,
        /// Describes the image for those who cannot see it.
        #[serde(default)]
        alt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    /// Products chosen by id, or the newest of a category (by its slug).
    ProductGrid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        product_ids: Vec<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        /// How many of the category's products (1 to 48, default 12).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u8>,
    },
    /// A banner with an optional image and link.
    Banner {
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_media_id: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<Link>,
    },
    /// Questions and answers.
    Faq { items: Vec<FaqItem> },
}

impl Block {
    fn check(&self, field: &str, errors: &mut FieldErrors) {
        match self {
            Block::Markdown { markdown } => {
                if markdown.trim().is_empty() || markdown.len() > MAX_MARKDOWN {
                    errors.push(format!("{field}.markdown"), FieldCode::InvalidLength, "1 to 100000 bytes");
                }
            }
            Block::Image { alt, caption, .. } => {
                check_text(&format!("{field}.alt"), alt, (0, 300), false, errors);
                if let Some(caption) = caption {
                    check_text(&format!("{field}.caption"), caption, (0, 500), false, errors);
                }
            }
            Block::ProductGrid { title, product_ids, category, limit } => {
                if let Some(title) = title {
                    check_text(&format!("{field}.title"), title, (1, 200), false, errors);
                }
                match (product_ids.is_empty(), category) {
                    (false, None) => {
                        if product_ids.len() > MAX_GRID {
                            errors.push(format!("{field}.product_ids"), FieldCode::OutOfRange, "at most 48 products");
                        }
                        if limit.is_some() {
                            errors.push(
                                format!("{field}.limit"),
                                FieldCode::InvalidValue,
                                "limit goes with a category",
                            );
                        }
                    }
                    (true, Some(category)) => {
                        check_slug(&format!("{field}.category"), category, 100, errors);
                        if limit.is_some_and(|n| n == 0 || n as usize > MAX_GRID) {
                            errors.push(format!("{field}.limit"), FieldCode::OutOfRange, "1 to 48");
                        }
                    }
                    _ => errors.push(
                        format!("{field}.product_ids"),
                        FieldCode::InvalidValue,
                        "either product_ids or a category, not both",
                    ),
                }
            }
            Block::Banner { title, text, link, .. } => {
                check_text(&format!("{field}.title"), title, (1, 200), false, errors);
                if let Some(text) = text {
                    check_text(&format!("{field}.text"), text, (0, 1000), true, errors);
                }
                if let Some(link) = link {
                    link.check(&format!("{field}.link"), errors);
                }
            }
            Block::Faq { items } => {
                if items.is_empty() || items.len() > 100 {
                    errors.push(format!("{field}.items"), FieldCode::OutOfRange, "1 to 100 questions");
                }
                for (i, item) in items.iter().enumerate() {
                    check_text(&format!("{field}.items[{i}].question"), &item.question, (1, 300), false, errors);
                    if item.answer_markdown.trim().is_empty() || item.answer_markdown.len() > 10_000 {
                        let field = format!("{field}.items[{i}].answer_markdown");
                        errors.push(field, FieldCode::InvalidLength, "1 to 10000 bytes");
                    }
                }
            }
        }
    }

    /// The media this block shows.
    fn media_ids(&self) -> impl Iterator<Item = Uuid> {
        let id = match self {
            Block::Image { media_id, .. } => Some(*media_id),
            Block::Banner { image_media_id, .. } => *image_media_id,
            _ => None,
        };
        id.into_iter()
    }
}

/// What search engines and link previews read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Seo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Asks search engines not to index the page.
    #[serde(default)]
    pub no_index: bool,
}

/// A page's editable content: what a version is made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub title: String,
    pub seo: Seo,
    pub blocks: Vec<Block>,
}

impl Draft {
    /// Every rule a draft must meet, with a field path per failure (`blocks[2].markdown`).
    pub fn check(&self, errors: &mut FieldErrors) {
        check_text("title", &self.title, (1, 200), false, errors);
        if let Some(title) = &self.seo.title {
            check_text("seo.title", title, (1, 200), false, errors);
        }
        if let Some(description) = &self.seo.description {
            check_text("seo.description", description, (0, 500), true, errors);
        }
        if self.blocks.len() > MAX_BLOCKS {
            errors.push("blocks", FieldCode::OutOfRange, format!("at most {MAX_BLOCKS} blocks"));
        }
        for (i, block) in self.blocks.iter().enumerate() {
            block.check(&format!("blocks[{i}]"), errors);
        }
    }

    /// The media the draft shows, each once.
    pub fn media_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.blocks.iter().flat_map(Block::media_ids).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The draft as the public sees it, with `media` resolved; a missing media item is a field
    /// error on the block that shows it.
    pub fn render(&self, media: &HashMap<Uuid, MediaInfo>, errors: &mut FieldErrors) -> Vec<RenderedBlock> {
        let mut image = |field: String, id: Uuid| match media.get(&id) {
            Some(info) => Some(Image::from(info)),
            None => {
                errors.push(field, FieldCode::InvalidValue, "no such media (deleted, or never uploaded)");
                None
            }
        };
        let mut rendered = Vec::with_capacity(self.blocks.len());
        for (i, block) in self.blocks.iter().enumerate() {
            rendered.push(match block {
                Block::Markdown { markdown } => RenderedBlock::Markdown { html: markdown::to_safe_html(markdown) },
                Block::Image { media_id, alt, caption } => {
                    let Some(image) = image(format!("blocks[{i}].media_id"), *media_id) else { continue };
                    RenderedBlock::Image { alt: alt.clone(), caption: caption.clone(), image }
                }
                Block::ProductGrid { title, product_ids, category, limit } => RenderedBlock::ProductGrid {
                    title: title.clone(),
                    product_ids: product_ids.clone(),
                    category: category.clone(),
                    limit: category.as_ref().map(|_| limit.unwrap_or(12)),
                },
                Block::Banner { title, text, image_media_id, link } => RenderedBlock::Banner {
                    title: title.clone(),
                    text: text.clone(),
                    image: image_media_id.and_then(|id| image(format!("blocks[{i}].image_media_id"), id)),
                    link: link.clone(),
                },
                Block::Faq { items } => RenderedBlock::Faq {
                    items: items
                        .iter()
                        .map(|item| RenderedFaq {
                            question: item.question.clone(),
                            html: markdown::to_safe_html(&item.answer_markdown),
                        })
                        .collect(),
                },
            });
        }
        rendered
    }
}

/// An image's public addresses (from the media service).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Image {
    pub media_id: Uuid,
    pub url: String,
    /// Variant name → JPEG URL.
    pub variants: std::collections::BTreeMap<String, String>,
    /// Variant name → WebP URL.
    pub webp: std::collections::BTreeMap<String, String>,
    pub width: i32,
    pub height: i32,
}

impl From<&MediaInfo> for Image {
    fn from(info: &MediaInfo) -> Self {
        Self {
            media_id: info.media_id.into(),
            url: info.url.clone(),
            variants: info.variants.clone(),
            webp: info.webp.clone(),
            width: info.width,
            height: info.height,
        }
    }
}

/// A rendered FAQ entry: the answer as sanitized HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RenderedFaq {
    pub question: String,
    pub html: String,
}

/// A block as the public sees it: Markdown as sanitized `html` (never the source), images with
/// their URLs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RenderedBlock {
    Markdown {
        html: String,
    },
    Image {
        alt: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        image: Image,
    },
    /// The storefront fetches the products themselves (live prices and stock).
    ProductGrid {
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        product_ids: Vec<Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        limit: Option<u8>,
    },
    Banner {
        title: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<Image>,
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<Link>,
    },
    Faq {
        items: Vec<RenderedFaq>,
    },
}

/// A navigation link, with nested links below it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    pub label: String,
    pub href: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<MenuItem>,
}

/// Every rule a menu's items must meet: labels and links as for any link, at most
/// [`MAX_MENU_DEPTH`] levels and [`MAX_MENU_ITEMS`] items in all.
pub fn check_menu(items: &[MenuItem], errors: &mut FieldErrors) {
    fn walk(items: &[MenuItem], path: &str, depth: usize, count: &mut usize, errors: &mut FieldErrors) {
        for (i, item) in items.iter().enumerate() {
            let field = format!("{path}[{i}]");
            *count += 1;
            Link { href: item.href.clone(), label: item.label.clone() }.check(&field, errors);
            if !item.children.is_empty() {
                if depth + 1 >= MAX_MENU_DEPTH {
                    errors.push(format!("{field}.children"), FieldCode::OutOfRange, "at most 3 levels");
                } else {
                    walk(&item.children, &format!("{field}.children"), depth + 1, count, errors);
                }
            }
        }
    }
    let mut count = 0;
    walk(items, "items", 0, &mut count, errors);
    if count > MAX_MENU_ITEMS {
        errors.push("items", FieldCode::OutOfRange, format!("at most {MAX_MENU_ITEMS} links in all"));
    }
}

/// A snippet's text (Markdown) must be present and short.
pub fn check_snippet(markdown: &str, errors: &mut FieldErrors) {
    if markdown.trim().is_empty() || markdown.len() > 5_000 {
        errors.push("markdown", FieldCode::InvalidLength, "1 to 5000 bytes");
    }
}

/// What the storefront must refresh when content changes: the page's path (from the
/// configured template, `{slug}` replaced) and a cache tag per item.
pub fn revalidation_targets(kind: &str, key: &str, page_path: &str) -> (Vec<String>, Vec<String>) {
    let paths = if kind == "page" { vec![page_path.replace("{slug}", key)] } else { Vec::new() };
    (paths, vec![format!("{kind}:{key}")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(draft: &Draft) -> Vec<String> {
        let mut errors = FieldErrors::default();
        draft.check(&mut errors);
        errors.into_errors().into_iter().map(|e| e.field).collect()
    }

    fn draft(blocks: serde_json::Value) -> Draft {
        Draft { title: "About".into(), seo: Seo::default(), blocks: serde_json::from_value(blocks).unwrap() }
    }

    #[test]
    fn a_script_in_markdown_never_reaches_the_rendered_html() {
        let page = draft(serde_json::json!([
            {"type": "markdown", "markdown": "Hi <script>alert(1)</script> [x](javascript:alert(1))"},
            {"type": "faq", "items": [{"question": "Q", "answer_markdown": "<img src=x onerror=alert(1)>"}]},
        ]));
        let rendered = serde_json::to_string(&page.render(&HashMap::new(), &mut FieldErrors::default())).unwrap();
        assert!(!rendered.contains("<script"), "{rendered}");
        assert!(!rendered.contains("<img"), "{rendered}");
        assert!(!rendered.contains("javascript:"), "{rendered}");
        assert!(rendered.contains("&lt;script&gt;"), "{rendered}");
    }

    #[test]
    fn a_rendered_page_reads_back_as_it_was_stored() {
        let page = draft(serde_json::json!([
            {"type": "product_grid", "category": "shirts"},
            {"type": "banner", "title": "Sale"},
            {"type": "markdown", "markdown": "x"},
        ]));
        let rendered = page.render(&HashMap::new(), &mut FieldErrors::default());
        let stored = serde_json::to_value(&rendered).unwrap();
        assert_eq!(serde_json::from_value::<Vec<RenderedBlock>>(stored).unwrap(), rendered);
    }

    #[test]
    fn unknown_block_types_and_fields_are_refused_when_read() {
        let unknown: Result<Vec<Block>, _> = serde_json::from_value(serde_json::json!([{"type": "video"}]));
        assert!(unknown.is_err());
        let extra: Result<Block, _> =
            serde_json::from_value(serde_json::json!({"type": "markdown", "markdown": "x", "html": "y"}));
        assert!(extra.is_err());
    }

    #[test]
    fn each_invalid_field_is_named_by_its_path() {
        let page = draft(serde_json::json!([
            {"type": "markdown", "markdown": " "},
            {"type": "banner", "title": "Sale", "link": {"href": "javascript:alert(1)", "label": "Go"}},
            {"type": "product_grid", "product_ids": [Uuid::nil()], "category": "shirts"},
            {"type": "product_grid", "category": "Shirts!"},
        ]));
        assert_eq!(
            errors_of(&page),
            ["blocks[0].markdown", "blocks[1].link.href", "blocks[2].product_ids", "blocks[3].category"]
        );
    }

    #[test]
    fn a_missing_media_item_is_an_error_on_its_block() {
        let page = draft(serde_json::json!([{"type": "image", "media_id": Uuid::nil(), "alt": "x"}]));
        let mut errors = FieldErrors::default();
        page.render(&HashMap::new(), &mut errors);
        assert_eq!(errors.into_errors()[0].field, "blocks[0].media_id");
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        for (slug, ok) in
            [("about-us", true), ("faq2", true), ("About", false), ("a--b", false), ("-a", false), ("", false)]
        {
            let mut errors = FieldErrors::default();
            check_slug("slug", slug, 100, &mut errors);
            assert_eq!(errors.is_empty(), ok, "{slug}");
        }
    }

    #[test]
    fn menus_deeper_than_three_levels_are_refused() {
        let leaf = |children| MenuItem { label: "x".into(), href: "/x".into(), children };
        let mut errors = FieldErrors::default();
        check_menu(&[leaf(vec![leaf(vec![leaf(vec![])])])], &mut errors);
        assert!(errors.is_empty());
        check_menu(&[leaf(vec![leaf(vec![leaf(vec![leaf(vec![])])])])], &mut errors);
        assert_eq!(errors.into_errors()[0].field, "items[0].children[0].children[0].children");
    }

    #[test]
    fn a_page_names_its_path_and_tag_and_a_menu_only_its_tag() {
        assert_eq!(
            revalidation_targets("page", "about", "/pages/{slug}"),
            (vec!["/pages/about".into()], vec!["page:about".into()])
        );
        assert_eq!(revalidation_targets("menu", "main", "/pages/{slug}"), (vec![], vec!["menu:main".into()]));
    }
}
