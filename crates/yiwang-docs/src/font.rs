//! The embedded font: glyph lookup, advance widths, and the subset written into each PDF.

use crate::DocsError;
use std::sync::OnceLock;
use ttf_parser::{Face, GlyphId};

/// WenQuanYi Micro Hei (Apache-2.0; see `fonts/README.md`).
static DATA: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");
/// Face 0 of the collection: the proportional face.
pub const FACE_INDEX: u32 = 0;
/// Drawn for a character the font lacks (a white square), or `?` as a last resort.
const REPLACEMENT: [char; 2] = ['\u{25A1}', '?'];

pub struct Font {
    face: Face<'static>,
    pub units_per_em: f32,
}

/// One printed character: its glyph in the full font and the text it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyph {
    pub id: u16,
    pub ch: char,
    /// Advance width in font units.
    pub advance: u16,
}

impl Font {
    /// The font, parsed once per process.
    pub fn get() -> Result<&'static Font, DocsError> {
        static FONT: OnceLock<Result<Font, String>> = OnceLock::new();
        FONT.get_or_init(|| {
            let face = Face::parse(DATA, FACE_INDEX).map_err(|e| e.to_string())?;
            let units_per_em = f32::from(face.units_per_em());
            Ok(Font { face, units_per_em })
        })
        .as_ref()
        .map_err(|e| DocsError::Font(e.clone()))
    }

    pub fn data(&self) -> &'static [u8] {
        DATA
    }

    fn lookup(&self, ch: char) -> Option<Glyph> {
        let id = self.face.glyph_index(ch)?;
        Some(Glyph {
            id: id.0,
            ch,
            advance: self.face.glyph_hor_advance(id).unwrap_or(0),
        })
    }

    /// The glyph for `ch`; a character the font lacks prints as a replacement square (and is
    /// extracted as that square, not as a wrong letter).
    pub fn glyph(&self, ch: char) -> Glyph {
        let ch = if ch.is_whitespace() { ' ' } else { ch };
        self.lookup(ch)
            .or_else(|| REPLACEMENT.iter().find_map(|&r| self.lookup(r)))
            .unwrap_or(Glyph {
                id: 0,
                ch,
                advance: self.face.units_per_em() / 2,
            })
    }

    /// Width of `glyphs` at `size` points.
    pub fn width(&self, glyphs: &[Glyph], size: f32) -> f32 {
        glyphs.iter().map(|g| self.advance(g, size)).sum()
    }

    pub fn advance(&self, g: &Glyph, size: f32) -> f32 {
        f32::from(g.advance) * size / self.units_per_em
    }

    /// Glyph advance in PDF text space units (thousandths of the font size).
    pub fn pdf_width(&self, original: u16) -> f32 {
        let adv = self.face.glyph_hor_advance(GlyphId(original)).unwrap_or(0);
        f32::from(adv) * 1000.0 / self.units_per_em
    }

    /// Font-wide metrics in thousandths of an em: (ascent, descent, cap height, bbox).
    pub fn metrics(&self) -> (f32, f32, f32, [f32; 4]) {
        let s = 1000.0 / self.units_per_em;
        let f = &self.face;
        let bb = f.global_bounding_box();
        let cap = f.capital_height().unwrap_or(f.ascender());
        (
            f32::from(f.ascender()) * s,
            f32::from(f.descender()) * s,
            f32::from(cap) * s,
            [
                f32::from(bb.x_min) * s,
                f32::from(bb.y_min) * s,
                f32::from(bb.x_max) * s,
                f32::from(bb.y_max) * s,
            ],
        )
    }
}
