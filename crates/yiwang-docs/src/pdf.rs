//! Writes the composed pages as PDF 1.7: one Type 0 font (CID-keyed TrueType subset, Identity-H,
//! with a ToUnicode map so text can be searched and copied), flate-compressed streams, no
//! timestamps or random identifiers (the same notice gives the same bytes).

use crate::font::{FACE_INDEX, Font, Glyph};
use crate::layout::{Item, PAGE_H, PAGE_W, Page};
use crate::{DocsError, DocumentKind, Notice};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::HashMap;
use subsetter::GlyphRemapper;

const FONT_NAME: &[u8] = b"F1";
const COMPRESSION: u8 = 6;

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, COMPRESSION)
}

/// Six capital letters naming the subset (PDF 9.6.4), derived from the glyph set.
fn subset_tag(gids: &[u16]) -> String {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in gids {
        for b in g.to_be_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
        .collect()
}

pub fn write(doc: &Notice, font: &Font, pages: &[Page]) -> Result<Vec<u8>, DocsError> {
    // Glyphs in order of first use; the subset numbers them 1, 2, … in that order.
    let mut remapper = GlyphRemapper::new();
    let mut used: Vec<Glyph> = Vec::new();
    let mut seen: HashMap<u16, ()> = HashMap::new();
    for page in pages {
        for item in &page.items {
            if let Item::Text { glyphs, .. } | Item::Seal { glyphs, .. } = item {
                for g in glyphs {
                    if seen.insert(g.id, ()).is_none() {
                        remapper.remap(g.id);
                        used.push(*g);
                    }
                }
            }
        }
    }
    let subset = subsetter::subset(font.data(), FACE_INDEX, &remapper)
        .map_err(|e| DocsError::Font(format!("{e:?}")))?;
    let cid = |old: u16| remapper.get(old).unwrap_or(0);

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let type0_id = alloc();
    let cid_id = alloc();
    let descriptor_id = alloc();
    let file_id = alloc();
    let cmap_id = alloc();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    let lang_tag = doc.lang.tag();
    pdf.catalog(catalog_id)
        .pages(tree_id)
        .lang(TextStr(lang_tag));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    let title = match (&doc.kind, &doc.licence) {
        (DocumentKind::Certificate, Some(l)) if l.title.is_some() => {
            l.title.clone().unwrap_or_default()
        }
        _ => crate::title(doc.kind, doc.lang),
    };
    let (y, m, d) = doc.issued_on.ymd();
    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&title))
        .subject(TextStr(&doc.case_number))
        .author(TextStr(&doc.department_name))
        .producer(TextStr("yiwang"));
    if let (Ok(y), Ok(m), Ok(d)) = (u16::try_from(y), u8::try_from(m), u8::try_from(d)) {
        info.creation_date(Date::new(y).month(m).day(d));
    }
    info.finish();

    // The font: Type 0 → CIDFontType2 → descriptor → the subset TrueType program.
    let gids: Vec<u16> = used.iter().map(|g| g.id).collect();
    let base = format!("{}+WenQuanYiMicroHei", subset_tag(&gids));
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0_id)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    let mut widths = vec![font.pdf_width(0)];
    widths.extend(used.iter().map(|g| font.pdf_width(g.id)));
    let mut cid_font = pdf.cid_font(cid_id);
    cid_font
        .subtype(CidFontType::Type2)
        .base_font(Name(base.as_bytes()))
        .system_info(system)
        .font_descriptor(descriptor_id)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid_font.widths().consecutive(0, widths);
    cid_font.finish();
    let (ascent, descent, cap, bbox) = font.metrics();
    pdf.font_descriptor(descriptor_id)
        .name(Name(base.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(bbox[0], bbox[1], bbox[2], bbox[3]))
        .italic_angle(0.0)
        .ascent(ascent)
        .descent(descent)
        .cap_height(cap)
        .stem_v(80.0)
        .font_file2(file_id);
    let packed = deflate(&subset);
    pdf.stream(file_id, &packed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);
    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system);
    for g in &used {
        cmap.pair(cid(g.id), g.ch);
    }
    let cmap = deflate(&cmap.finish());
    pdf.cmap(cmap_id, &cmap).filter(Filter::FlateDecode);

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let content = deflate(&content(page, &cid));
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree_id)
            .contents(*content_id);
        p.resources().fonts().pair(Name(FONT_NAME), type0_id);
        p.finish();
        pdf.stream(*content_id, &content)
            .filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}

fn content(page: &Page, cid: &dyn Fn(u16) -> u16) -> Vec<u8> {
    let mut c = Content::new();
    c.set_fill_gray(0.0);
    c.set_stroke_gray(0.0);
    let mut fills = false;
    for item in &page.items {
        if let Item::Fill { x, y, w, h } = item {
            c.rect(*x, *y, *w, *h);
            fills = true;
        }
    }
    if fills {
        c.fill_nonzero();
    }
    for item in &page.items {
        if let Item::Rule {
            x1,
            y1,
            x2,
            y2,
            width,
        } = item
        {
            c.set_line_width(*width);
            c.move_to(*x1, *y1);
            c.line_to(*x2, *y2);
            c.stroke();
        }
    }
    for item in &page.items {
        if let Item::Text {
            x,
            y,
            size,
            bold,
            glyphs,
        } = item
        {
            let mut bytes = Vec::with_capacity(glyphs.len() * 2);
            for g in glyphs {
                bytes.extend_from_slice(&cid(g.id).to_be_bytes());
            }
            c.begin_text();
            c.set_font(Name(FONT_NAME), *size);
            if *bold {
                // Faux bold: fill and stroke the outlines (the font has one weight).
                c.set_line_width(size * 0.03);
                c.set_text_rendering_mode(TextRenderingMode::FillStroke);
            } else {
                c.set_text_rendering_mode(TextRenderingMode::Fill);
            }
            c.next_line(*x, *y);
            c.show(Str(&bytes));
            c.end_text();
        }
    }
    for item in &page.items {
        if let Item::Seal { cx, cy, r, glyphs } = item {
            seal(&mut c, *cx, *cy, *r, glyphs, cid);
        }
    }
    c.finish().into_vec()
}

/// Seal red (朱红).
const SEAL_RGB: (f32, f32, f32) = (0.86, 0.08, 0.08);

/// A round department seal: a ring, a five-pointed star in the middle and the text along the
/// upper arc, read clockwise from the left, each glyph upright to the centre.
fn seal(c: &mut Content, cx: f32, cy: f32, r: f32, glyphs: &[Glyph], cid: &dyn Fn(u16) -> u16) {
    use std::f32::consts::{FRAC_PI_2, PI};
    let (red, green, blue) = SEAL_RGB;
    c.save_state();
    c.set_fill_rgb(red, green, blue);
    c.set_stroke_rgb(red, green, blue);
    // The ring: four Bézier quarter circles.
    let k = 0.552_285 * r;
    c.set_line_width(r * 0.05);
    c.move_to(cx + r, cy);
    c.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    c.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    c.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    c.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    c.close_path();
    c.stroke();
    // The star: ten points alternating between two radii.
    let (outer, inner) = (r * 0.3, r * 0.3 * 0.382);
    for i in 0..10 {
        let rad = if i % 2 == 0 { outer } else { inner };
        let a = FRAC_PI_2 + i as f32 * PI / 5.0;
        let (x, y) = (cx + rad * a.cos(), cy + rad * a.sin());
        if i == 0 {
            c.move_to(x, y);
        } else {
            c.line_to(x, y);
        }
    }
    c.close_path();
    c.fill_nonzero();
    // The text: glyphs spread over an arc of up to 240°, centred on the top.
    let n = glyphs.len();
    if n > 0 {
        let size = (r * 0.26).min(2.0 * PI * r * 0.55 / n as f32);
        let baseline = r * 0.93 - size;
        let span = (4.0 * PI / 3.0).min(n as f32 * size * 1.1 / baseline);
        let step = if n > 1 { span / (n - 1) as f32 } else { 0.0 };
        for (i, g) in glyphs.iter().enumerate() {
            let theta = FRAC_PI_2 + span / 2.0 - i as f32 * step;
            let phi = theta - FRAC_PI_2;
            let (cos, sin) = (phi.cos(), phi.sin());
            let half = size / 2.0;
            let x = cx + baseline * theta.cos() - half * cos;
            let y = cy + baseline * theta.sin() - half * sin;
            c.begin_text();
            c.set_font(Name(FONT_NAME), size);
            c.set_text_rendering_mode(TextRenderingMode::Fill);
            c.set_text_matrix([cos, sin, -sin, cos, x, y]);
            c.show(Str(&cid(g.id).to_be_bytes()));
            c.end_text();
        }
    }
    c.restore_state();
}
