//! Reading QR codes back the way a phone would: from the inline SVG of a page and from the
//! filled rectangles a notice PDF draws (rasterised, then decoded with rqrr).

use std::collections::BTreeSet;

/// Decodes a set of dark modules (`(x, y)` in module units, quiet zone included in `side`).
fn decode_modules(side: usize, dark: &BTreeSet<(usize, usize)>) -> Option<String> {
    let scale = 6;
    let px = side * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| {
        if dark.contains(&(x / scale, y / scale)) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    let grid = grids.first()?;
    grid.decode().ok().map(|(_, content)| content)
}

/// The text of the QR code drawn by the first `<svg id="{id}"…><path d="…">` of `html`.
pub fn decode_svg(html: &str, id: &str) -> Option<String> {
    let svg = &html[html.find(&format!("<svg id=\"{id}\""))?..];
    let side: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let d = svg
        .split("<path")
        .nth(1)?
        .split(" d=\"")
        .nth(1)?
        .split('"')
        .next()?;
    let mut dark = BTreeSet::new();
    // "M x y h w v1 h-w z" per run.
    for run in d.split('M').filter(|r| !r.trim().is_empty()) {
        let (xy, rest) = run.split_once('h')?;
        let mut xy = xy.split_whitespace();
        let x: usize = xy.next()?.parse().ok()?;
        let y: usize = xy.next()?.parse().ok()?;
        let w: usize = rest.split('v').next()?.parse().ok()?;
        for i in x..x + w {
            dark.insert((i, y));
        }
    }
    decode_modules(side, &dark)
}

/// The text of the QR code a notice PDF draws on its last page: every `x y w h re` there is
/// a run of dark modules (nothing else on a notice is drawn with `re`).
pub fn decode_pdf(pdf: &[u8]) -> Option<String> {
    let doc = pdf_extract::Document::load_mem(pdf).ok()?;
    let pages = doc.get_pages();
    let last = pages.values().last().copied()?;
    let content = doc.get_page_content(last).ok()?;
    let text = String::from_utf8_lossy(&content);
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut rects: Vec<[f64; 4]> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if *t == "re" && i >= 4 {
            let n: Vec<f64> = tokens[i - 4..i]
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            if let [x, y, w, h] = n[..] {
                rects.push([x, y, w, h]);
            }
        }
    }
    let cell = rects.iter().map(|r| r[3]).fold(f64::MAX, f64::min);
    let min_x = rects.iter().map(|r| r[0]).fold(f64::MAX, f64::min);
    let max_y = rects.iter().map(|r| r[1] + r[3]).fold(f64::MIN, f64::max);
    let max_x = rects.iter().map(|r| r[0] + r[2]).fold(f64::MIN, f64::max);
    let width = ((max_x - min_x) / cell).round() as usize;
    let mut dark = BTreeSet::new();
    for [x, y, w, h] in rects {
        let col = ((x - min_x) / cell).round() as usize;
        let row = ((max_y - y - h) / cell).round() as usize;
        let n = (w / cell).round() as usize;
        for c in col..col + n {
            dark.insert((c + 4, row + 4));
        }
    }
    decode_modules(width + 8, &dark)
}
