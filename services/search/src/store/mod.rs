//! The search index: a tantivy index on local disk (no SQL schema). Each active product is one
//! document; each SKU's newest stock flag and each image's URL are small documents of their own
//! (so what arrives before its product is indexed, or before the catalog caught up, is not lost); the category tree sits beside the index in
//! `categories.json`. Writes go through one writer and are committed by [`SearchIndex::flush`],
//! once per batch of events and before the batch is acknowledged, so an event acknowledged is
//! an event on disk. Reads are in `query`.
//!
//! A replica owns its directory. When the directory is missing, or was written with another
//! [`SCHEMA_VERSION`], the index is made anew and filled from the product service's export.

pub mod query;

use contracts::types::{CategoryId, ProductStatus, Sku};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use contracts::product::{CategoryEntry, SearchDocument, StockMark};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::domain::index_text;

/// Bump when the fields or their analysis change: every replica then rebuilds its index.
pub const SCHEMA_VERSION: u32 = 2;
const VERSION_FILE: &str = "shopfleet-schema-version";
const CATEGORIES_FILE: &str = "categories.json";
const WRITER_MEMORY: usize = 20_000_000;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored document: {0}")]
    Json(#[from] serde_json::Error),
}

/// The index's fields.
#[derive(Clone, Copy)]
pub struct Fields {
    /// A product's id, or a stock flag's SKU (with `kind`).
    pub key: Field,
    /// `product` or `stock`.
    pub kind: Field,
    pub title: Field,
    pub brand_text: Field,
    pub category_text: Field,
    pub description: Field,
    pub sku: Field,
    /// Direct category ids.
    pub category: Field,
    /// Lowercased brand.
    pub brand: Field,
    /// `name=value`.
    pub attr: Field,
    pub price_min: Field,
    pub price_max: Field,
    /// Microseconds since the epoch.
    pub created: Field,
    /// 1 or 0.
    pub in_stock: Field,
    /// The first image's media id.
    pub image: Field,
    /// The JSON the document was made from.
    pub source: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer("words").set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING),
        title: b.add_text_field("title", words.clone()),
        brand_text: b.add_text_field("brand_text", words.clone()),
        category_text: b.add_text_field("category_text", words.clone()),
        description: b.add_text_field("description", words),
        sku: b.add_text_field("sku", STRING),
        category: b.add_text_field("category", STRING | FAST),
        brand: b.add_text_field("brand", STRING | FAST),
        attr: b.add_text_field("attr", STRING | FAST),
        price_min: b.add_i64_field("price_min", INDEXED | FAST),
        price_max: b.add_i64_field("price_max", INDEXED | FAST),
        created: b.add_i64_field("created", FAST),
        in_stock: b.add_u64_field("in_stock", INDEXED | FAST),
        image: b.add_text_field("image", STRING),
        source: b.add_text_field("source", STORED),
    };
    (b.build(), fields)
}

const PRODUCT: &str = "product";
const STOCK: &str = "stock";
const IMAGE: &str = "image";

/// A category as the index keeps it.
#[derive(Clone, Debug, Default)]
pub struct Categories {
    pub entries: Vec<CategoryEntry>,
    by_id: HashMap<CategoryId, usize>,
}

impl Categories {
    pub fn new(entries: Vec<CategoryEntry>) -> Self {
        let by_id = entries.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        Self { entries, by_id }
    }

    pub fn get(&self, id: CategoryId) -> Option<&CategoryEntry> {
        self.by_id.get(&id).map(|i| &self.entries[*i])
    }

    pub fn by_slug(&self, slug: &str) -> Option<&CategoryEntry> {
        self.entries.iter().find(|c| c.slug == slug)
    }

    /// `id`'s children, by position then name.
    pub fn children(&self, id: Option<CategoryId>) -> Vec<&CategoryEntry> {
        let mut kids: Vec<&CategoryEntry> = self.entries.iter().filter(|c| c.parent_id == id).collect();
        kids.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        kids
    }

    /// `id` and every category below it.
    pub fn subtree(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = vec![id];
        let mut at = 0;
        while at < out.len() {
            let parent = out[at];
            out.extend(self.entries.iter().filter(|c| c.parent_id == Some(parent)).map(|c| c.id));
            at += 1;
            if out.len() > self.entries.len() + 1 {
                break; // a cycle in bad data: stop rather than loop
            }
        }
        out
    }

    /// The path from `id` up to its root (itself first).
    pub fn ancestors(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = Vec::new();
        let mut at = Some(id);
        while let Some(id) = at {
            if out.contains(&id) || out.len() > 64 {
                break;
            }
            out.push(id);
            at = self.get(id).and_then(|c| c.parent_id);
        }
        out
    }
}

/// The writer with what it holds uncommitted: what the index will say once committed, read
/// before the committed index (so that two events of one batch about the same product or SKU
/// see each other).
struct Writer {
    writer: IndexWriter,
    /// Products written since the last commit: their state, or `None` when taken out.
    products: HashMap<Uuid, Option<SearchDocument>>,
    /// Stock flags written since the last commit.
    stock: HashMap<Sku, StockMark>,
    /// Image URLs written since the last commit (`None`: the image was deleted).
    images: HashMap<Uuid, Option<String>>,
    dirty: bool,
}

/// The index of one replica.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<Writer>,
    pub fields: Fields,
    categories: RwLock<Arc<Categories>>,
    dir: PathBuf,
}

impl SearchIndex {
    /// Opens the index in `dir`, or makes an empty one there when it is missing or of another
    /// schema version; the flag says whether it must be filled from the export.
    pub fn open(dir: &Path) -> Result<(Self, bool), IndexError> {
        let (schema, fields) = schema();
        let version = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let current = version.as_deref().map(str::trim) == Some(SCHEMA_VERSION.to_string().as_str());
        let opened = if current {
            tantivy::directory::MmapDirectory::open(dir).ok().and_then(|d| Index::open(d).ok())
        } else {
            None
        };
        let (index, fresh) = match opened.filter(|index| index.schema() == schema) {
            Some(index) => (index, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                (Index::create_in_dir(dir, schema)?, true)
            }
        };
        index.tokenizers().register("words", TextAnalyzer::from(WhitespaceTokenizer::default()));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let categories = std::fs::read(dir.join(CATEGORIES_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Vec<CategoryEntry>>(&bytes).ok());
        let fresh = fresh || categories.is_none();
        let this = Self {
            reader,
            writer: Mutex::new(Writer {
                writer,
                products: HashMap::new(),
                stock: HashMap::new(),
                images: HashMap::new(),
                dirty: false,
            }),
            fields,
            categories: RwLock::new(Arc::new(Categories::new(categories.unwrap_or_default()))),
            dir: dir.to_owned(),
        };
        Ok((this, fresh))
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    pub fn categories(&self) -> Arc<Categories> {
        self.categories.read().expect("categories lock").clone()
    }

    /// Replaces the category tree (written beside the index first, then swapped in).
    pub fn set_categories(&self, entries: Vec<CategoryEntry>) -> Result<(), IndexError> {
        let path = self.dir.join(CATEGORIES_FILE);
        let temporary = self.dir.join(format!("{CATEGORIES_FILE}.tmp"));
        std::fs::write(&temporary, serde_json::to_vec(&entries)?)?;
        std::fs::rename(&temporary, &path)?;
        *self.categories.write().expect("categories lock") = Arc::new(Categories::new(entries));
        Ok(())
    }

    /// The rebuild, a page at a time: the first page drops every product held, each page adds
    /// its active products (with any newer stock flag held), nothing is visible until
    /// [`Self::flush`] commits; [`Self::finish_rebuild`] does and records the schema version.
    pub fn rebuild_page(&self, documents: Vec<SearchDocument>, first: bool) -> Result<usize, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        let searcher = self.searcher();
        let stock = self.stock_marks(&searcher)?;
        if first {
            w.writer.delete_term(Term::from_field_text(self.fields.kind, PRODUCT));
        }
        let mut added = 0;
        for mut document in documents {
            if document.status != ProductStatus::Active {
                continue;
            }
            merge_marks(&mut document, &stock);
            w.writer.add_document(self.product_document(&document)?)?;
            added += 1;
        }
        w.dirty = true;
        Ok(added)
    }

    /// Commits the rebuild and records the schema version it was made with.
    pub fn finish_rebuild(&self) -> Result<(), IndexError> {
        self.flush()?;
        std::fs::write(self.dir.join(VERSION_FILE), SCHEMA_VERSION.to_string())?;
        Ok(())
    }

    /// Commits what was written since the last commit and makes it visible to searches.
    pub fn flush(&self) -> Result<(), IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        if !w.dirty {
            return Ok(());
        }
        w.writer.commit()?;
        self.reader.reload()?;
        w.products.clear();
        w.stock.clear();
        w.images.clear();
        w.dirty = false;
        Ok(())
    }

    /// The product as the index holds it, committed or not.
    fn held_product(&self, w: &Writer, searcher: &Searcher, id: Uuid) -> Result<Option<SearchDocument>, IndexError> {
        match w.products.get(&id) {
            Some(pending) => Ok(pending.clone()),
            None => Ok(self.first(searcher, Term::from_field_text(self.fields.key, &id.to_string()))?.map(|(_, d)| d)),
        }
    }

    /// Writes (or takes out) a product, to be committed by the next flush.
    fn put_product(&self, w: &mut Writer, id: Uuid, document: Option<SearchDocument>) -> Result<(), IndexError> {
        w.writer.delete_term(Term::from_field_text(self.fields.key, &id.to_string()));
        if let Some(document) = &document {
            w.writer.add_document(self.product_document(document)?)?;
        }
        w.products.insert(id, document);
        w.dirty = true;
        Ok(())
    }

    /// Puts the product's current state in the index (an active product) or takes it out (any
    /// other status), unless the index already holds this version or a newer one. Visible after
    /// the next [`Self::flush`].
    pub fn upsert(&self, mut document: SearchDocument) -> Result<bool, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        let searcher = self.searcher();
        let id = document.product_id;
        let held = self.held_product(&w, &searcher, id.into())?;
        // The image URL search holds from the media service's own events wins over the
        // catalog's copy (which may not have caught up yet).
        if let Some(image) = document.image
            && let Some(url) = self.image_url_of(&w, &searcher, image.into())?
        {
            document.image_url = url;
        }
        // Older, or this very version with the same image URL (the one thing that changes
        // without a new version).
        let stale = held.as_ref().is_some_and(|held| {
            held.version > document.version
                || (held.version == document.version && held.image_url == document.image_url)
        });
        if stale {
            return Ok(false);
        }
        if document.status == ProductStatus::Active {
            let skus: Vec<Sku> = document.variants.iter().map(|v| v.sku.clone()).collect();
            let stock = self.stock_marks_of(&w, &searcher, &skus)?;
            merge_marks(&mut document, &stock);
            self.put_product(&mut w, id.into(), Some(document))?;
        } else if held.is_some() {
            self.put_product(&mut w, id.into(), None)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Takes a product the catalog no longer has out of the index.
    pub fn remove(&self, id: Uuid) -> Result<bool, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        if self.held_product(&w, &self.searcher(), id)?.is_none() {
            return Ok(false);
        }
        self.put_product(&mut w, id, None)?;
        Ok(true)
    }

    /// Replaces the category tree and re-indexes the products under `category` (the event's)
    /// and under every category that changed (its name or place), since a product is found by
    /// the names of its categories' paths.
    pub fn refresh_categories(&self, entries: Vec<CategoryEntry>, category: Uuid) -> Result<usize, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        let old = self.categories();
        let mut changed: Vec<CategoryId> = entries.iter().filter(|c| old.get(c.id) != Some(*c)).map(|c| c.id).collect();
        changed.push(category.into());
        self.set_categories(entries)?;
        let new = self.categories();
        let mut touched: HashSet<String> = HashSet::new();
        for id in changed {
            touched.extend(new.subtree(id).into_iter().map(|id| id.to_string()));
        }
        if touched.is_empty() {
            return Ok(0);
        }
        let searcher = self.searcher();
        let any: Vec<(tantivy::query::Occur, Box<dyn tantivy::query::Query>)> = touched
            .iter()
            .map(|id| {
                let term = Term::from_field_text(self.fields.category, id);
                (tantivy::query::Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as _)
            })
            .collect();
        let query = tantivy::query::BooleanQuery::new(any);
        let count = searcher.search(&query, &tantivy::collector::Count)?;
        let mut documents: HashMap<Uuid, Option<SearchDocument>> = HashMap::new();
        for (_, address) in searcher.search(&query, &TopDocs::with_limit(count.max(1)).order_by_score())? {
            let document = self.stored(&searcher, address)?;
            documents.insert(document.product_id.into(), Some(document));
        }
        // What this batch wrote counts over what is committed.
        for (id, pending) in &w.products {
            let inside =
                pending.as_ref().is_some_and(|d| d.category_ids.iter().any(|c| touched.contains(&c.to_string())));
            documents.insert(*id, if inside { pending.clone() } else { None });
        }
        let mut count = 0;
        for (id, document) in documents.into_iter() {
            if let Some(document) = document {
                self.put_product(&mut w, id, Some(document))?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Records a SKU's stock flag if it is newer than the one held, and updates the product that
    /// has the SKU. Visible after the next [`Self::flush`].
    pub fn stock_changed(&self, mark: StockMark) -> Result<bool, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        let searcher = self.searcher();
        let held = self.stock_marks_of(&w, &searcher, std::slice::from_ref(&mark.sku))?;
        if held.get(&mark.sku).is_some_and(|h| h.stock_seq >= mark.stock_seq) {
            return Ok(false);
        }
        w.writer.delete_term(Term::from_field_text(self.fields.key, &stock_key(&mark.sku)));
        let mut stock_doc = TantivyDocument::default();
        stock_doc.add_text(self.fields.key, stock_key(&mark.sku));
        stock_doc.add_text(self.fields.kind, STOCK);
        stock_doc.add_text(self.fields.source, serde_json::to_string(&mark)?);
        w.writer.add_document(stock_doc)?;
        w.stock.insert(mark.sku.clone(), mark.clone());
        w.dirty = true;
        let pending = w.products.values().flatten().find(|d| d.variants.iter().any(|v| v.sku == mark.sku)).cloned();
        let product = match pending {
            Some(document) => Some(document),
            None => self
                .first(&searcher, Term::from_field_text(self.fields.sku, mark.sku.as_str()))?
                .map(|(_, d)| d)
                // Written out in this batch: the committed copy is stale.
                .filter(|d| !w.products.contains_key(&d.product_id.uuid())),
        };
        if let Some(mut document) = product {
            let marks = HashMap::from([(mark.sku.clone(), mark)]);
            merge_marks(&mut document, &marks);
            self.put_product(&mut w, document.product_id.into(), Some(document))?;
        }
        Ok(true)
    }

    /// Records an image's URL (`None`: deleted) and sets it on every product showing the image.
    pub fn image_changed(&self, media: Uuid, url: Option<String>) -> Result<usize, IndexError> {
        let mut w = self.writer.lock().expect("writer lock");
        let searcher = self.searcher();
        w.writer.delete_term(Term::from_field_text(self.fields.key, &image_key(media)));
        let mut doc = TantivyDocument::default();
        doc.add_text(self.fields.key, image_key(media));
        doc.add_text(self.fields.kind, IMAGE);
        doc.add_text(self.fields.source, serde_json::to_string(&url)?);
        w.writer.add_document(doc)?;
        w.images.insert(media, url.clone());
        w.dirty = true;
        let query =
            TermQuery::new(Term::from_field_text(self.fields.image, &media.to_string()), IndexRecordOption::Basic);
        let mut showing: HashMap<Uuid, SearchDocument> = HashMap::new();
        for (_, address) in searcher.search(&query, &TopDocs::with_limit(10_000).order_by_score())? {
            let document = self.stored(&searcher, address)?;
            if !w.products.contains_key(&document.product_id.uuid()) {
                showing.insert(document.product_id.into(), document);
            }
        }
        for document in w.products.values().flatten().filter(|d| d.image == Some(media.into())) {
            showing.insert(document.product_id.into(), document.clone());
        }
        let count = showing.len();
        for (id, mut document) in showing {
            document.image_url = url.clone();
            self.put_product(&mut w, id, Some(document))?;
        }
        Ok(count)
    }

    /// The URL held for an image: `Some(None)` when it was deleted, `None` when search has no
    /// word of it (the catalog's copy stands).
    fn image_url_of(&self, w: &Writer, searcher: &Searcher, media: Uuid) -> Result<Option<Option<String>>, IndexError> {
        if let Some(url) = w.images.get(&media) {
            return Ok(Some(url.clone()));
        }
        let term = Term::from_field_text(self.fields.key, &image_key(media));
        let hits = searcher
            .search(&TermQuery::new(term, IndexRecordOption::Basic), &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = hits.first() else { return Ok(None) };
        let doc: TantivyDocument = searcher.doc(*address)?;
        let source = doc.get_first(self.fields.source).and_then(|v| v.as_str()).unwrap_or("null");
        Ok(Some(serde_json::from_str(source)?))
    }

    /// The stored product at `address`.
    pub fn stored(&self, searcher: &Searcher, address: DocAddress) -> Result<SearchDocument, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let source = doc.get_first(self.fields.source).and_then(|v| v.as_str()).unwrap_or("{}");
        Ok(serde_json::from_str(source)?)
    }

    fn first(&self, searcher: &Searcher, term: Term) -> Result<Option<(DocAddress, SearchDocument)>, IndexError> {
        let hits = searcher
            .search(&TermQuery::new(term, IndexRecordOption::Basic), &TopDocs::with_limit(1).order_by_score())?;
        match hits.first() {
            Some((_, address)) => Ok(Some((*address, self.stored(searcher, *address)?))),
            None => Ok(None),
        }
    }

    /// The stock flags held for these SKUs, committed or not.
    fn stock_marks_of(
        &self,
        w: &Writer,
        searcher: &Searcher,
        skus: &[Sku],
    ) -> Result<HashMap<Sku, StockMark>, IndexError> {
        let mut out = HashMap::new();
        for sku in skus {
            if let Some(mark) = w.stock.get(sku) {
                out.insert(sku.clone(), mark.clone());
                continue;
            }
            if let Some(address) = searcher
                .search(
                    &TermQuery::new(Term::from_field_text(self.fields.key, &stock_key(sku)), IndexRecordOption::Basic),
                    &TopDocs::with_limit(1).order_by_score(),
                )?
                .first()
                .map(|(_, a)| *a)
            {
                let doc: TantivyDocument = searcher.doc(address)?;
                let source = doc.get_first(self.fields.source).and_then(|v| v.as_str()).unwrap_or("{}");
                let mark: StockMark = serde_json::from_str(source)?;
                out.insert(mark.sku.clone(), mark);
            }
        }
        Ok(out)
    }

    /// Every stock flag held (the rebuild merges them into the export).
    fn stock_marks(&self, searcher: &Searcher) -> Result<HashMap<Sku, StockMark>, IndexError> {
        let query = TermQuery::new(Term::from_field_text(self.fields.kind, STOCK), IndexRecordOption::Basic);
        let count = searcher.search(&query, &tantivy::collector::Count)?;
        let mut out = HashMap::new();
        for (_, address) in searcher.search(&query, &TopDocs::with_limit(count.max(1)).order_by_score())? {
            let doc: TantivyDocument = searcher.doc(address)?;
            let source = doc.get_first(self.fields.source).and_then(|v| v.as_str()).unwrap_or("{}");
            let mark: StockMark = serde_json::from_str(source)?;
            out.insert(mark.sku.clone(), mark);
        }
        Ok(out)
    }

    fn product_document(&self, document: &SearchDocument) -> Result<TantivyDocument, IndexError> {
        let f = &self.fields;
        let categories = self.categories();
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, document.product_id.to_string());
        doc.add_text(f.kind, PRODUCT);
        if let Some(image) = document.image {
            doc.add_text(f.image, image.to_string());
        }
        doc.add_text(f.title, index_text(&document.title));
        if let Some(brand) = &document.brand {
            doc.add_text(f.brand_text, index_text(brand));
            doc.add_text(f.brand, brand.to_lowercase());
        }
        let mut names = HashSet::new();
        for id in &document.category_ids {
            doc.add_text(f.category, id.to_string());
            for ancestor in categories.ancestors(*id) {
                if let Some(category) = categories.get(ancestor) {
                    names.insert(category.name.clone());
                }
            }
        }
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        doc.add_text(f.category_text, index_text(&names.join(" ")));
        doc.add_text(f.description, index_text(&document.description));
        for variant in &document.variants {
            doc.add_text(f.sku, variant.sku.as_str());
        }
        for (name, value) in &document.attributes {
            doc.add_text(f.attr, format!("{name}={value}"));
        }
        doc.add_i64(f.price_min, document.price_min_minor.minor());
        doc.add_i64(f.price_max, document.price_max_minor.minor());
        doc.add_i64(f.created, document.created_at.timestamp_micros());
        doc.add_u64(f.in_stock, u64::from(in_stock(document)));
        doc.add_text(f.source, serde_json::to_string(document)?);
        Ok(doc)
    }
}

fn image_key(media: Uuid) -> String {
    format!("image:{media}")
}

fn stock_key(sku: &Sku) -> String {
    format!("stock:{sku}")
}

/// Whether any variant can be bought.
pub fn in_stock(document: &SearchDocument) -> bool {
    document.variants.iter().any(|v| v.in_stock)
}

/// Takes each held flag that is newer than the document's own.
fn merge_marks(document: &mut SearchDocument, held: &HashMap<Sku, StockMark>) {
    for variant in &mut document.variants {
        if let Some(mark) = held.get(&variant.sku)
            && mark.stock_seq > variant.stock_seq
        {
            variant.in_stock = mark.in_stock;
            variant.stock_seq = mark.stock_seq;
        }
    }
}
