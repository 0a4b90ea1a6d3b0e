//! The QR code to the verification page, as a module matrix drawn with filled rectangles.

use crate::DocsError;
use crate::layout::Item;
use qrcode::{Color, EcLevel, QrCode};

/// A square QR matrix: `width × width` modules, row by row from the top, `true` = dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl QrMatrix {
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// Encodes `url` with error correction level M (15 % of the code may be damaged).
pub fn qr_matrix(url: &str) -> Result<QrMatrix, DocsError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|_| DocsError::Qr)?;
    Ok(QrMatrix {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    })
}

/// The dark modules as rectangles, one per horizontal run, in a `size`-point square whose
/// bottom-left corner is at (`x`, `y`). The quiet zone around the code is left to the caller.
pub fn draw(m: &QrMatrix, x: f32, y: f32, size: f32) -> Vec<Item> {
    let mut out = Vec::new();
    if m.width == 0 {
        return out;
    }
    let cell = size / m.width as f32;
    for row in 0..m.width {
        let mut col = 0;
        while col < m.width {
            if !m.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < m.width && m.is_dark(col, row) {
                col += 1;
            }
            out.push(Item::Fill {
                x: x + start as f32 * cell,
                y: y + size - (row + 1) as f32 * cell,
                w: (col - start) as f32 * cell,
                h: cell,
            });
        }
    }
    out
}

/// The dark modules as SVG path data (`M x y h w v 1 h -w z` per horizontal run), in module
/// units with a `quiet`-module margin, for a `viewBox` of `0 0 s s` where
/// `s = width + 2 × quiet`. Only ASCII digits, letters and spaces: a page can print it as a
/// plain attribute value, no markup built in Rust.
pub fn svg_path(m: &QrMatrix, quiet: usize) -> String {
    let mut d = String::new();
    for row in 0..m.width {
        let mut col = 0;
        while col < m.width {
            if !m.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < m.width && m.is_dark(col, row) {
                col += 1;
            }
            if !d.is_empty() {
                d.push(' ');
            }
            d.push_str(&format!(
                "M{} {}h{}v1h-{}z",
                start + quiet,
                row + quiet,
                col - start,
                col - start
            ));
        }
    }
    d
}

/// A QR code for a page: the SVG `viewBox` side and path (see [`svg_path`]), with the
/// standard four-module quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrSvg {
    pub side: usize,
    pub path: String,
}

/// Encodes `text` (e.g. an `otpauth://` link) for an inline SVG on a page.
pub fn qr_svg(text: &str) -> Result<QrSvg, DocsError> {
    let m = qr_matrix(text)?;
    Ok(QrSvg {
        side: m.width + 8,
        path: svg_path(&m, 4),
    })
}
