//! Reading the index: the typed words become term queries over the words the index holds
//! (each typed word expanded to the indexed words within its edit distance, scored by BM25 with
//! the field's boost and less for every edit), the filters become non-scoring clauses, the
//! facets are counted in one pass over the matches, and suggestions come from titles, brands and
//! the category tree.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use contracts::listing::{Filters, PRICE_BUCKETS};
use contracts::product::SearchDocument;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use super::{Categories, Fields, IndexError, SearchIndex};
use crate::domain::{Sort, Terms, match_distance, max_distance};

/// How many indexed words one typed word may stand for in one field.
const MAX_EXPANSIONS: usize = 24;

/// A search's answer.
pub struct Found {
    pub hits: Vec<SearchDocument>,
    pub total: usize,
    pub facets: Option<FacetCounts>,
}

/// The facets, shaped like the catalog listing's.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// The direct children of the filtered category (the roots when unfiltered), each counted
    /// over its subtree: (slug, name, count).
    pub categories: Vec<(String, String, u64)>,
    /// (min, max or open, count) by the lowest price.
    pub price: Vec<(i64, Option<i64>, u64)>,
    /// Per attribute, its values with counts, most frequent first.
    pub attributes: BTreeMap<String, Vec<(String, u64)>>,
    pub in_stock: u64,
    pub out_of_stock: u64,
}

/// What a search asks for.
pub struct Search<'a> {
    pub terms: &'a Terms,
    pub filters: &'a Filters,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
}

impl SearchIndex {
    /// Runs a search.
    pub fn search(&self, search: &Search<'_>) -> Result<Found, IndexError> {
        let searcher = self.searcher();
        let categories = self.categories();
        let query = self.query(&searcher, &categories, search.terms, search.filters, &self.text_fields())?;
        let top = ranked(self.fields, search.sort, search.offset, search.limit);
        let (addresses, total, facets) = if search.facets {
            let counter = FacetCounter::new(&categories, search.filters.category.as_deref(), self.fields);
            let (top, total, facets) = searcher.search(&query, &(top, Count, counter))?;
            (top, total, Some(facets))
        } else {
            let (top, total) = searcher.search(&query, &(top, Count))?;
            (top, total, None)
        };
        let hits =
            addresses.into_iter().map(|(_, address)| self.stored(&searcher, address)).collect::<Result<Vec<_>, _>>()?;
        Ok(Found { hits, total, facets })
    }

    /// Up to `limit` products whose title matches (best first), and brands (distinct, from the
    /// best matching products).
    pub fn suggest_products(
        &self,
        terms: &Terms,
        limit: usize,
    ) -> Result<(Vec<SearchDocument>, Vec<String>), IndexError> {
        let searcher = self.searcher();
        let categories = self.categories();
        let none = Filters::default();
        let titles = self.query(&searcher, &categories, terms, &none, &[(self.fields.title, 1.0)])?;
        let products = searcher
            .search(&titles, &TopDocs::with_limit(limit).order_by_score())?
            .into_iter()
            .map(|(_, address)| self.stored(&searcher, address))
            .collect::<Result<Vec<_>, _>>()?;
        let brand_query = self.query(&searcher, &categories, terms, &none, &[(self.fields.brand_text, 1.0)])?;
        let mut brands: Vec<String> = Vec::new();
        for (_, address) in searcher.search(&brand_query, &TopDocs::with_limit(50).order_by_score())? {
            if let Some(brand) = self.stored(&searcher, address)?.brand
                && !brands.iter().any(|b| b.eq_ignore_ascii_case(&brand))
            {
                brands.push(brand);
            }
        }
        Ok((products, brands))
    }

    /// The text fields with their boosts: title > brand > category > description.
    fn text_fields(&self) -> [(Field, Score); 4] {
        let f = &self.fields;
        [(f.title, 4.0), (f.brand_text, 2.5), (f.category_text, 1.5), (f.description, 1.0)]
    }

    fn query(
        &self,
        searcher: &Searcher,
        categories: &Categories,
        terms: &Terms,
        filters: &Filters,
        fields: &[(Field, Score)],
    ) -> Result<Box<dyn Query>, IndexError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let filter = |query: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
        };
        clauses.push(filter(term(f.kind, super::PRODUCT)));
        for (i, word) in terms.words.iter().enumerate() {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in fields {
                for (indexed, edits) in expand(searcher, *field, word, terms.is_prefix(i))? {
                    let weight = boost / (1.0 + edits as Score);
                    let query = TermQuery::new(Term::from_field_text(*field, &indexed), IndexRecordOption::WithFreqs);
                    alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(query), weight))));
                }
            }
            if alternatives.is_empty() {
                // Every word must match somewhere; this one matches nothing.
                return Ok(Box::new(EmptyQuery));
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
        if let Some(slug) = &filters.category {
            let Some(category) = categories.by_slug(slug) else { return Ok(Box::new(EmptyQuery)) };
            let any: Vec<(Occur, Box<dyn Query>)> = categories
                .subtree(category.id)
                .into_iter()
                .map(|id| (Occur::Should, term(f.category, &id.to_string())))
                .collect();
            clauses.push(filter(Box::new(BooleanQuery::new(any))));
        }
        if let Some(brand) = &filters.brand {
            clauses.push(filter(term(f.brand, &brand.to_lowercase())));
        }
        if let Some(min) = filters.min_price {
            let from = Bound::Included(Term::from_field_i64(f.price_max, min));
            clauses.push(filter(Box::new(RangeQuery::new(from, Bound::Unbounded))));
        }
        if let Some(max) = filters.max_price {
            let to = Bound::Included(Term::from_field_i64(f.price_min, max));
            clauses.push(filter(Box::new(RangeQuery::new(Bound::Unbounded, to))));
        }
        for (name, value) in &filters.attributes {
            clauses.push(filter(term(f.attr, &format!("{name}={value}"))));
        }
        if filters.in_stock {
            clauses
                .push(filter(Box::new(TermQuery::new(Term::from_field_u64(f.in_stock, 1), IndexRecordOption::Basic))));
        }
        if terms.is_empty() {
            clauses.push((Occur::Should, Box::new(AllQuery)));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

/// The indexed words of `field` that the typed `word` may stand for, with their edits: the
/// word itself, those within its edit distance, and, for the last word, those it begins
/// (within the distance too). Fewest edits first, at most [`MAX_EXPANSIONS`].
fn expand(searcher: &Searcher, field: Field, word: &str, prefix: bool) -> Result<Vec<(String, usize)>, IndexError> {
    let distance = max_distance(word);
    let mut found: HashMap<String, usize> = HashMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let dictionary = inverted.terms();
        if distance == 0 && !prefix {
            if dictionary.get(word.as_bytes())?.is_some() {
                found.insert(word.to_owned(), 0);
            }
            continue;
        }
        let typed = Term::from_field_text(field, word);
        let query = if prefix {
            FuzzyTermQuery::new_prefix(typed, distance, true)
        } else {
            FuzzyTermQuery::new(typed, distance, true)
        };
        let mut stream = dictionary.search(query.automaton()?).into_stream()?;
        while stream.advance() {
            let Ok(indexed) = std::str::from_utf8(stream.key()) else { continue };
            if found.contains_key(indexed) {
                continue;
            }
            if let Some(edits) = match_distance(word, indexed, prefix) {
                found.insert(indexed.to_owned(), edits);
            }
            if found.len() > MAX_EXPANSIONS * 8 {
                break;
            }
        }
    }
    let mut found: Vec<(String, usize)> = found.into_iter().collect();
    // Fewest edits, then the shortest word (the closest completion), then alphabetically.
    found.sort_by(|a, b| (a.1, a.0.len(), &a.0).cmp(&(b.1, b.0.len(), &b.0)));
    found.truncate(MAX_EXPANSIONS);
    Ok(found)
}

/// The page of results in the sort's order; ties newest first.
fn ranked(
    fields: Fields,
    sort: Sort,
    offset: usize,
    limit: usize,
) -> impl Collector<Fruit = Vec<((f64, i64), tantivy::DocAddress)>> {
    TopDocs::with_limit(limit).and_offset(offset).tweak_score(move |segment: &SegmentReader| {
        let column = |name: Field| {
            let name = segment.schema().get_field_name(name).to_owned();
            segment.fast_fields().i64(&name).map(|c| c.first_or_default_col(0)).ok()
        };
        let price = column(fields.price_min);
        let created = column(fields.created);
        move |doc: DocId, score: Score| {
            let price = price.as_ref().map_or(0, |c| c.get_val(doc)) as f64;
            let created = created.as_ref().map_or(0, |c| c.get_val(doc));
            let primary = match sort {
                Sort::Relevance => f64::from(score),
                Sort::PriceAsc => -price,
                Sort::PriceDesc => price,
                Sort::Newest => 0.0,
            };
            (primary, created)
        }
    })
}

/// Counts the facets over every match.
struct FacetCounter {
    /// The categories whose subtrees are counted, as (slug, name).
    kids: Vec<(String, String)>,
    /// For each category id (as indexed), the kid it falls under.
    kid_of: Arc<HashMap<String, usize>>,
    fields: Fields,
}

impl FacetCounter {
    fn new(categories: &Categories, filtered: Option<&str>, fields: Fields) -> Self {
        let parent = filtered.and_then(|slug| categories.by_slug(slug)).map(|c| c.id);
        let kids = if filtered.is_some() && parent.is_none() { Vec::new() } else { categories.children(parent) };
        let mut kid_of = HashMap::new();
        for (index, kid) in kids.iter().enumerate() {
            for id in categories.subtree(kid.id) {
                kid_of.insert(id.to_string(), index);
            }
        }
        Self { kids: kids.iter().map(|k| (k.slug.clone(), k.name.clone())).collect(), kid_of: Arc::new(kid_of), fields }
    }
}

/// One segment's counts.
#[derive(Default)]
struct Tally {
    kids: Vec<u64>,
    price: Vec<u64>,
    attributes: HashMap<String, u64>,
    in_stock: u64,
    out_of_stock: u64,
}

struct SegmentFacetCounter {
    tally: Tally,
    /// For each category ordinal of the segment, its kid.
    kid_of_ord: Vec<Option<usize>>,
    categories: Option<StrColumn>,
    attributes: Option<StrColumn>,
    attribute_counts: HashMap<u64, u64>,
    price: Option<Column<i64>>,
    in_stock: Option<Column<u64>>,
    seen: HashSet<usize>,
}

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacetCounter;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentFacetCounter> {
        let name = |field: Field| segment.schema().get_field_name(field).to_owned();
        let fast = segment.fast_fields();
        let categories = fast.str(&name(self.fields.category))?;
        let mut kid_of_ord = Vec::new();
        if let Some(column) = &categories {
            let mut text = String::new();
            for ord in 0..column.num_terms() as u64 {
                text.clear();
                column.ord_to_str(ord, &mut text)?;
                kid_of_ord.push(self.kid_of.get(&text).copied());
            }
        }
        Ok(SegmentFacetCounter {
            tally: Tally { kids: vec![0; self.kids.len()], price: vec![0; PRICE_BUCKETS.len()], ..Tally::default() },
            kid_of_ord,
            categories,
            attributes: fast.str(&name(self.fields.attr))?,
            attribute_counts: HashMap::new(),
            price: fast.column_opt::<i64>(&name(self.fields.price_min))?,
            in_stock: fast.column_opt::<u64>(&name(self.fields.in_stock))?,
            seen: HashSet::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, tallies: Vec<Tally>) -> tantivy::Result<FacetCounts> {
        let mut total =
            Tally { kids: vec![0; self.kids.len()], price: vec![0; PRICE_BUCKETS.len()], ..Tally::default() };
        for tally in tallies {
            total.kids.iter_mut().zip(&tally.kids).for_each(|(a, b)| *a += b);
            total.price.iter_mut().zip(&tally.price).for_each(|(a, b)| *a += b);
            for (value, count) in tally.attributes {
                *total.attributes.entry(value).or_default() += count;
            }
            total.in_stock += tally.in_stock;
            total.out_of_stock += tally.out_of_stock;
        }
        let categories =
            self.kids.iter().zip(&total.kids).map(|((slug, name), n)| (slug.clone(), name.clone(), *n)).collect();
        let price = PRICE_BUCKETS
            .iter()
            .enumerate()
            .map(|(i, lo)| (*lo, PRICE_BUCKETS.get(i + 1).copied(), total.price[i]))
            .collect();
        let mut attributes: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        for (pair, count) in total.attributes {
            if let Some((name, value)) = pair.split_once('=') {
                attributes.entry(name.to_owned()).or_default().push((value.to_owned(), count));
            }
        }
        for values in attributes.values_mut() {
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        Ok(FacetCounts { categories, price, attributes, in_stock: total.in_stock, out_of_stock: total.out_of_stock })
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = Tally;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(column) = &self.categories {
            self.seen.clear();
            for ord in column.term_ords(doc) {
                if let Some(Some(kid)) = self.kid_of_ord.get(ord as usize)
                    && self.seen.insert(*kid)
                {
                    self.tally.kids[*kid] += 1;
                }
            }
        }
        if let Some(price) = self.price.as_ref().and_then(|c| c.first(doc)) {
            let bucket = PRICE_BUCKETS.iter().rposition(|lo| price >= *lo).unwrap_or(0);
            self.tally.price[bucket] += 1;
        }
        if let Some(column) = &self.attributes {
            for ord in column.term_ords(doc) {
                *self.attribute_counts.entry(ord).or_default() += 1;
            }
        }
        match self.in_stock.as_ref().and_then(|c| c.first(doc)) {
            Some(1) => self.tally.in_stock += 1,
            _ => self.tally.out_of_stock += 1,
        }
    }

    fn harvest(mut self) -> Tally {
        if let Some(column) = &self.attributes {
            let mut text = String::new();
            for (ord, count) in self.attribute_counts {
                text.clear();
                if column.ord_to_str(ord, &mut text).unwrap_or(false) {
                    *self.tally.attributes.entry(text.clone()).or_default() += count;
                }
            }
        }
        self.tally
    }
}
