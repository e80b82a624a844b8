//! The thumbnail itself: pixels ready to upload as a texture. A leaf.

/// A small RGBA image, ready to upload as a texture.
#[derive(Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes, row-major, unpremultiplied RGBA.
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Thumbnail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Thumbnail({}x{})", self.width, self.height)
    }
}

impl Thumbnail {
    /// Whether every pixel is fully opaque. All the words ANDed together, with no early
    /// exit, so the loop is vectorised (a short-circuiting `all` over 49,000 pixels, run
    /// twice per download, was 2 % of a small picture's CPU).
    pub(crate) fn is_opaque(&self) -> bool {
        let all = self.rgba.chunks_exact(4).fold(u32::MAX, |m, p| {
            m & u32::from_le_bytes([p[0], p[1], p[2], p[3]])
        });
        all >> 24 == 0xFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pixel_not_fully_opaque_makes_the_thumbnail_not_opaque() {
        let mut thumb = Thumbnail {
            width: 3,
            height: 3,
            rgba: [10, 20, 30, 255].repeat(9),
        };
        assert!(thumb.is_opaque());
        for alpha in [0, 1, 254] {
            thumb.rgba[4 * 7 + 3] = alpha;
            assert!(!thumb.is_opaque(), "alpha {alpha}");
        }
    }
}
