//! A small page model (text runs, filled squares, rules) and a composer that flows paragraphs
//! and tables down A4 pages. Coordinates are PDF points, origin at the bottom left.

use crate::font::{Font, Glyph};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
/// Margins close to GB/T 9704 (official documents): 37 mm top, 28 mm left, 26 mm right.
pub const LEFT: f32 = 79.4;
pub const RIGHT: f32 = PAGE_W - 73.7;
pub const TOP: f32 = PAGE_H - 96.0;
/// Text stops here; the band below holds the QR code (last page) and the page number.
pub const BOTTOM: f32 = 178.0;

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        glyphs: Vec<Glyph>,
    },
    /// A filled rectangle (QR modules).
    Fill { x: f32, y: f32, w: f32, h: f32 },
    /// A department's electronic seal: a red ring and star with `glyphs` along the upper arc,
    /// centred at (`cx`, `cy`).
    Seal {
        cx: f32,
        cy: f32,
        r: f32,
        glyphs: Vec<Glyph>,
    },
    /// A stroked line (table rules).
    Rule {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
}

/// Characters that must not start a line (避头点): they stay on the line before.
fn no_line_start(c: char) -> bool {
    "，。、：；！？）》」』】〕〉”’%,.;:!?)]".contains(c)
}

/// Characters that must not end a line (避尾点): they move to the next line.
fn no_line_end(c: char) -> bool {
    "（《「『【〔〈“‘([".contains(c)
}

/// Characters after which a line may break anywhere: CJK ideographs and full-width forms.
fn breaks_anywhere(c: char) -> bool {
    let u = u32::from(c);
    (0x2E80..=0x9FFF).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFF00..=0xFFEF).contains(&u)
}

/// Splits text into units that a line may not break inside: one CJK character, one Latin word,
/// one space.
fn units(font: &Font, text: &str) -> Vec<Vec<Glyph>> {
    let mut out: Vec<Vec<Glyph>> = Vec::new();
    let mut word: Vec<Glyph> = Vec::new();
    for ch in text.chars() {
        let g = font.glyph(ch);
        if ch.is_whitespace() || breaks_anywhere(ch) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(vec![g]);
        } else {
            word.push(g);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Breaks `text` into lines of at most `first` points (the first line) and `rest` points.
pub fn wrap(font: &Font, text: &str, size: f32, first: f32, rest: f32) -> Vec<Vec<Glyph>> {
    let mut lines: Vec<Vec<Glyph>> = Vec::new();
    let mut line: Vec<Glyph> = Vec::new();
    let mut width = 0.0;
    for unit in units(font, text) {
        let limit = if lines.is_empty() { first } else { rest };
        let w = font.width(&unit, size);
        let is_space = unit.len() == 1 && unit[0].ch == ' ';
        let hangs = unit.first().is_some_and(|g| no_line_start(g.ch));
        if width + w <= limit || line.is_empty() || hangs {
            if line.is_empty() && is_space {
                continue;
            }
            if width + w > limit && line.is_empty() {
                // A word longer than the line: break it between characters.
                for g in unit {
                    let gw = font.advance(&g, size);
                    let limit = if lines.is_empty() { first } else { rest };
                    if width + gw > limit && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        width = 0.0;
                    }
                    width += gw;
                    line.push(g);
                }
                continue;
            }
            width += w;
            line.extend(unit);
        } else {
            while line.last().is_some_and(|g| g.ch == ' ') {
                line.pop();
            }
            let mut carried = Vec::new();
            while line.len() > 1 && line.last().is_some_and(|g| no_line_end(g.ch)) {
                carried.extend(line.pop());
            }
            carried.reverse();
            lines.push(std::mem::take(&mut line));
            width = font.width(&carried, size);
            line = carried;
            if !is_space {
                width += w;
                line.extend(unit);
            }
        }
    }
    while line.last().is_some_and(|g| g.ch == ' ') {
        line.pop();
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Horizontal placement of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Flows content down pages, starting a new page when the next block does not fit.
pub struct Composer<'f> {
    pub font: &'f Font,
    pub pages: Vec<Page>,
    /// Baseline of the next line goes below this.
    pub y: f32,
}

impl<'f> Composer<'f> {
    pub fn new(font: &'f Font) -> Self {
        Self {
            font,
            pages: vec![Page::default()],
            y: TOP,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    pub fn push(&mut self, item: Item) {
        self.page().items.push(item);
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    /// Starts a new page unless `height` points still fit above the bottom band.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    pub fn space(&mut self, h: f32) {
        self.y -= h;
    }

    /// Draws one line of glyphs with its baseline at `y`.
    pub fn text_at(&mut self, glyphs: Vec<Glyph>, x: f32, y: f32, size: f32, bold: bool) {
        if glyphs.is_empty() {
            return;
        }
        self.push(Item::Text {
            x,
            y,
            size,
            bold,
            glyphs,
        });
    }

    /// Places one line between `left` and `right` with the given alignment.
    #[allow(clippy::too_many_arguments)]
    pub fn line_in(
        &mut self,
        glyphs: Vec<Glyph>,
        left: f32,
        right: f32,
        y: f32,
        size: f32,
        align: Align,
        bold: bool,
    ) {
        let w = self.font.width(&glyphs, size);
        let x = match align {
            Align::Left => left,
            Align::Center => left + ((right - left) - w) / 2.0,
            Align::Right => right - w,
        };
        self.text_at(glyphs, x, y, size, bold);
    }

    /// A paragraph across the text column, optionally with a first-line indent of two
    /// characters (公文 style), breaking pages between lines.
    pub fn paragraph(
        &mut self,
        text: &str,
        size: f32,
        leading: f32,
        indent: bool,
        align: Align,
        bold: bool,
    ) {
        let width = RIGHT - LEFT;
        let ind = if indent { 2.0 * size } else { 0.0 };
        let lines = wrap(self.font, text, size, width - ind, width);
        for (i, line) in lines.into_iter().enumerate() {
            self.ensure(leading);
            self.y -= leading;
            let y = self.y + (leading - size) / 2.0 + size * 0.12;
            let left = if i == 0 { LEFT + ind } else { LEFT };
            self.line_in(line, left, RIGHT, y, size, align, bold);
        }
    }

    pub fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        self.push(Item::Rule {
            x1,
            y1,
            x2,
            y2,
            width,
        });
    }

    /// A bordered table; `widths` are column widths (summing to the text column), each row's
    /// cells wrap; the header row repeats on every page; a row taller than the space left is
    /// split between pages.
    pub fn table(
        &mut self,
        widths: &[f32],
        header: Option<&[String]>,
        rows: &[Vec<String>],
        size: f32,
        leading: f32,
    ) {
        let pad = 4.0;
        let mut xs = vec![LEFT];
        for w in widths {
            let last = xs.last().copied().unwrap_or(LEFT);
            xs.push(last + w);
        }
        let wrap_cells = |font: &Font, cells: &[String]| -> Vec<Vec<Vec<Glyph>>> {
            cells
                .iter()
                .zip(widths)
                .map(|(c, w)| wrap(font, c, size, w - 2.0 * pad, w - 2.0 * pad))
                .collect()
        };
        let head = header.map(|h| wrap_cells(self.font, h)).unwrap_or_default();
        let head_lines = head.iter().map(Vec::len).max().unwrap_or(0);
        let head_h = head_lines as f32 * leading + 2.0 * pad;
        self.ensure(head_h + leading + 2.0 * pad);
        if head_lines > 0 {
            self.table_row(&xs, &head, 0, head_lines, size, leading, pad, true);
        }
        for row in rows {
            let cells = wrap_cells(self.font, row);
            let total = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let mut from = 0;
            while from < total {
                let room = ((self.y - BOTTOM - 2.0 * pad) / leading).floor();
                let room = if room < 1.0 { 0 } else { room as usize };
                // Keep a row whole when it fits on a fresh page.
                let fresh = ((TOP - BOTTOM - head_h - 2.0 * pad) / leading)
                    .floor()
                    .max(0.0) as usize;
                let split_needlessly = from == 0 && total > room && total <= fresh;
                if room == 0 || split_needlessly {
                    self.new_page();
                    if head_lines > 0 {
                        self.table_row(&xs, &head, 0, head_lines, size, leading, pad, true);
                    }
                    continue;
                }
                let n = room.min(total - from);
                self.table_row(&xs, &cells, from, n, size, leading, pad, false);
                from += n;
            }
        }
    }

    /// Lines `from..from+n` of each cell as one bordered band.
    #[allow(clippy::too_many_arguments)]
    fn table_row(
        &mut self,
        xs: &[f32],
        cells: &[Vec<Vec<Glyph>>],
        from: usize,
        n: usize,
        size: f32,
        leading: f32,
        pad: f32,
        bold: bool,
    ) {
        let top = self.y;
        let h = n as f32 * leading + 2.0 * pad;
        let bottom = top - h;
        let (Some(&first), Some(&last)) = (xs.first(), xs.last()) else {
            return;
        };
        self.rule(first, top, last, top, 0.6);
        self.rule(first, bottom, last, bottom, 0.6);
        for &x in xs {
            self.rule(x, top, x, bottom, 0.6);
        }
        for (col, lines) in cells.iter().enumerate() {
            let (Some(&l), Some(&r)) = (xs.get(col), xs.get(col + 1)) else {
                continue;
            };
            for (i, line) in lines.iter().skip(from).take(n).enumerate() {
                let y =
                    top - pad - (i as f32 + 1.0) * leading + (leading - size) / 2.0 + size * 0.12;
                let align = if bold { Align::Center } else { Align::Left };
                self.line_in(line.clone(), l + pad, r - pad, y, size, align, bold);
            }
        }
        self.y = bottom;
    }
}
