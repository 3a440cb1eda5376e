//! What part of the map is on screen, as plain numbers: the zoom and where the view looks,
//! panning, zooming about a point, pinching, fitting the whole map, scrolling a topic into
//! view, and turning a point in the window into one on the map and back. No DOM: the views
//! (the reader's map on a subject's page, the editor's canvas) measure the canvas and the
//! layout and hand them in as a [`Frame`] and [`Rect`]s, so all of this is tested natively.
//!
//! "Fit" never shrinks the labels below [`MIN_LABEL_PX`]: a map too big for the canvas at that
//! size is shown around its root instead, and only zooming out on request goes smaller (as
//! far as [`MIN_SCALE`]).
//!
//! Units: the window and the canvas are in CSS pixels, the map in the layout's units (one
//! unit is one CSS pixel at zoom 1). The view is kept relative to the root topic's centre, so
//! others' changes that widen the map (which move the root in map units) do not move what
//! this person is looking at.

/// The smallest and largest zoom.
pub const MIN_SCALE: f64 = 0.02;
pub const MAX_SCALE: f64 = 4.0;
/// The smallest label "fit" shows, in CSS pixels, and so the smallest zoom it picks.
pub const MIN_LABEL_PX: f64 = 11.0;
pub const MIN_FIT_SCALE: f64 = MIN_LABEL_PX / crate::draw::LABEL_SIZE;
/// Room kept around a topic scrolled into view (CSS pixels), unless the map is fitted.
pub const REVEAL_MARGIN: f64 = 24.0;

/// A wheel turn (`deltaMode`, `deltaX`, `deltaY` as the DOM gives them) in CSS pixels: lines
/// count 16 px, pages the canvas's height (`page`).
pub fn wheel_pixels(mode: u32, x: f64, y: f64, page: f64) -> (f64, f64) {
    let unit = match mode {
        1 => 16.0,
        2 => page,
        _ => 1.0,
    };
    (x * unit, y * unit)
}

/// The zoom a vertical wheel turn of `y` CSS pixels makes (Ctrl+wheel, or a touchpad's pinch,
/// which comes as one): in, for a turn up.
pub fn wheel_zoom(y: f64) -> f64 {
    (-y * 0.002).exp()
}

/// A point: in the window (CSS pixels) or on the map (map units), as the function says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub const fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    fn distance(self, other: Point) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// A rectangle: its top-left corner and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub const fn new(x: f64, y: f64, width: f64, height: f64) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    pub fn centre(&self) -> Point {
        Point::new(self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.x + self.width && p.y >= self.y && p.y <= self.y + self.height
    }
}

/// Where the map is shown now: the canvas in the window (CSS pixels, its size at least 1 by
/// 1), the root topic's centre on the map, and how much of the canvas's right and bottom
/// edges something covers (the editor's drawer: CSS pixels, 0 when nothing does), which
/// fitting and revealing keep clear of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub canvas: Rect,
    pub root: Point,
    pub covered_right: f64,
    pub covered_bottom: f64,
}

impl Frame {
    /// A canvas nothing covers.
    pub const fn new(canvas: Rect, root: Point) -> Frame {
        Frame {
            canvas,
            root,
            covered_right: 0.0,
            covered_bottom: 0.0,
        }
    }

    /// The width and height of the part of the canvas nothing covers (at least 1 by 1).
    fn open(&self) -> (f64, f64) {
        (
            (self.canvas.width - self.covered_right).max(1.0),
            (self.canvas.height - self.covered_bottom).max(1.0),
        )
    }
}

/// What this person is looking at: the zoom, and the view's centre relative to the root's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    scale: f64,
    dx: f64,
    dy: f64,
    /// Keep the whole map fitted as it changes: from the start, and after "fit", until this
    /// person pans or zooms.
    fit: bool,
}

impl Default for Viewport {
    /// Natural size, centred on the root, fitted (the first drawing fits the map).
    fn default() -> Viewport {
        Viewport {
            scale: 1.0,
            dx: 0.0,
            dy: 0.0,
            fit: true,
        }
    }
}

impl Viewport {
    /// CSS pixels per map unit.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Whether the whole map is to be kept fitted as it changes.
    pub fn is_fitted(&self) -> bool {
        self.fit
    }

    /// The part of the map on the canvas, in map units.
    pub fn view_box(&self, frame: &Frame) -> Rect {
        let (w, h) = (
            frame.canvas.width / self.scale,
            frame.canvas.height / self.scale,
        );
        Rect::new(
            frame.root.x + self.dx - w / 2.0,
            frame.root.y + self.dy - h / 2.0,
            w,
            h,
        )
    }

    /// [`Viewport::view_box`] as an SVG `viewBox` attribute.
    pub fn view_box_attribute(&self, frame: &Frame) -> String {
        let Rect {
            x,
            y,
            width,
            height,
        } = self.view_box(frame);
        format!("{x:.2} {y:.2} {width:.2} {height:.2}")
    }

    /// A point in the window (CSS pixels) on the map (map units).
    pub fn to_map(&self, frame: &Frame, at: Point) -> Point {
        let view = self.view_box(frame);
        Point::new(
            view.x + (at.x - frame.canvas.x) / self.scale,
            view.y + (at.y - frame.canvas.y) / self.scale,
        )
    }

    /// A point on the map (map units) in the window (CSS pixels).
    pub fn to_screen(&self, frame: &Frame, p: Point) -> Point {
        let view = self.view_box(frame);
        Point::new(
            frame.canvas.x + (p.x - view.x) * self.scale,
            frame.canvas.y + (p.y - view.y) * self.scale,
        )
    }

    /// Zooms so that the whole map (`bounds`, map units) is in view and centred, never above
    /// its natural size nor below [`MIN_FIT_SCALE`], and keeps it so. A map that does not fit
    /// at that smallest size is shown around its root, as much of each side as the canvas
    /// holds.
    pub fn fit(&mut self, frame: &Frame, bounds: Rect) {
        let (w, h) = (bounds.width.max(1.0), bounds.height.max(1.0));
        let (open_w, open_h) = frame.open();
        let scale = (open_w / w).min(open_h / h).clamp(MIN_FIT_SCALE, 1.0);
        // Along an axis the map does not fit, the view keeps to the root but never past the
        // map's edge.
        let centre = |start: f64, size: f64, root: f64, room: f64| {
            if size * scale <= room {
                start + size / 2.0 - root
            } else {
                let half = room / scale / 2.0;
                root.clamp(start + half, start + size - half) - root
            }
        };
        // Centred in the open part: the view's centre is past it by half what is covered.
        *self = Viewport {
            scale,
            dx: centre(bounds.x, w, frame.root.x, open_w) + frame.covered_right / 2.0 / scale,
            dy: centre(bounds.y, h, frame.root.y, open_h) + frame.covered_bottom / 2.0 / scale,
            fit: true,
        };
    }

    /// Zooms by `factor` (within [`MIN_SCALE`] and [`MAX_SCALE`]) keeping the map point under
    /// window point `at` where it is; about the canvas's centre without one.
    pub fn zoom(&mut self, frame: &Frame, factor: f64, at: Option<Point>) {
        let canvas = frame.canvas;
        let (px, py) = at.map_or((canvas.width / 2.0, canvas.height / 2.0), |p| {
            (p.x - canvas.x, p.y - canvas.y)
        });
        let view = self.view_box(frame);
        let before = self.scale;
        let after = (before * factor).clamp(MIN_SCALE, MAX_SCALE);
        // The point under the pointer stays under it.
        let (mx, my) = (view.x + px / before, view.y + py / before);
        let (cx, cy) = (
            mx - px / after + canvas.width / 2.0 / after,
            my - py / after + canvas.height / 2.0 / after,
        );
        *self = Viewport {
            scale: after,
            dx: cx - frame.root.x,
            dy: cy - frame.root.y,
            fit: false,
        };
    }

    /// Moves the picture by (`x`, `y`) CSS pixels.
    pub fn pan(&mut self, x: f64, y: f64) {
        self.dx -= x / self.scale;
        self.dy -= y / self.scale;
        self.fit = false;
    }

    /// One of two pointers on the canvas moved from `was` to `now` while the other stays at
    /// `other` (window points): zooms by how far apart they moved, about their middle, and
    /// pans by how their middle moved.
    pub fn pinch(&mut self, frame: &Frame, was: Point, now: Point, other: Point) {
        let before = was.distance(other);
        let after = now.distance(other);
        let middle = Point::new((now.x + other.x) / 2.0, (now.y + other.y) / 2.0);
        if before > 0.0 {
            self.zoom(frame, after / before, Some(middle));
        }
        self.pan((now.x - was.x) / 2.0, (now.y - was.y) / 2.0);
    }

    /// Pans the least that brings `node` (map units) into view with [`REVEAL_MARGIN`] around
    /// it (none when fitted: a fitted map has its own margin), its top-left corner first when
    /// it cannot all be in view. Whether the view moved.
    pub fn reveal(&mut self, frame: &Frame, node: Rect) -> bool {
        let mut view = self.view_box(frame);
        let (open_w, open_h) = frame.open();
        view.width = open_w / self.scale;
        view.height = open_h / self.scale;
        let margin = if self.fit {
            0.0
        } else {
            REVEAL_MARGIN / self.scale
        };
        let shift = |start: f64, size: f64, view: f64, room: f64| {
            if size + 2.0 * margin > room || start - margin < view {
                start - margin - view
            } else if start + size + margin > view + room {
                start + size + margin - view - room
            } else {
                0.0
            }
        };
        let (sx, sy) = (
            shift(node.x, node.width, view.x, view.width),
            shift(node.y, node.height, view.y, view.height),
        );
        if sx == 0.0 && sy == 0.0 {
            return false;
        }
        self.dx += sx;
        self.dy += sy;
        self.fit = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 800×600 canvas at (100, 50) in the window, the root's centre at (400, 300).
    fn frame() -> Frame {
        Frame::new(
            Rect::new(100.0, 50.0, 800.0, 600.0),
            Point::new(400.0, 300.0),
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
    }

    fn close_points(a: Point, b: Point) -> bool {
        close(a.x, b.x) && close(a.y, b.y)
    }

    #[test]
    fn starts_fitted_at_natural_size_centred_on_the_root() {
        let view = Viewport::default();
        assert!(view.is_fitted());
        assert_eq!(view.scale(), 1.0);
        assert_eq!(view.view_box(&frame()), Rect::new(0.0, 0.0, 800.0, 600.0));
        // The canvas's centre shows the root.
        assert_eq!(
            view.to_map(&frame(), Point::new(500.0, 350.0)),
            Point::new(400.0, 300.0)
        );
        assert_eq!(
            view.to_map(&frame(), Point::new(100.0, 50.0)),
            Point::new(0.0, 0.0)
        );
    }

    #[test]
    fn fit_shows_the_whole_map_centred_and_never_enlarges_it() {
        let frame = frame();
        let mut view = Viewport::default();
        view.pan(10.0, 10.0);
        // 10 % wider than the canvas: shrunk to fit, centred.
        let map = Rect::new(0.0, 0.0, 880.0, 400.0);
        view.fit(&frame, map);
        assert!(view.is_fitted());
        assert!((view.scale() - 800.0 / 880.0).abs() < 1e-9);
        let shown = view.view_box(&frame);
        assert!(close_points(shown.centre(), map.centre()));
        assert!(shown.x <= map.x && shown.x + shown.width >= map.x + map.width);
        assert!(shown.y <= map.y && shown.y + shown.height >= map.y + map.height);
        // A small map stays at its natural size.
        view.fit(&frame, Rect::new(0.0, 0.0, 100.0, 50.0));
        assert_eq!(view.scale(), 1.0);
        assert!(close_points(
            view.view_box(&frame).centre(),
            Point::new(50.0, 25.0)
        ));
    }

    #[test]
    fn fit_keeps_labels_readable_and_shows_a_big_map_around_its_root() {
        let frame = frame();
        let mut view = Viewport::default();
        // Ten canvases wide: the labels would be 1.3 px; fit stops at 11 px, around the root
        // (at 400, 300), which is inside the map.
        view.fit(&frame, Rect::new(0.0, 0.0, 8_000.0, 600.0));
        assert_eq!(view.scale(), MIN_FIT_SCALE);
        assert!(crate::draw::LABEL_SIZE * view.scale() >= MIN_LABEL_PX - 1e-9);
        let shown = view.view_box(&frame);
        // Not past the map's left edge: the root is 400 units in, the view is wider than 800.
        assert!((shown.x - 0.0).abs() < 1e-9, "{shown:?}");
        // Vertically the map fits at that size, so it is centred.
        assert!((shown.centre().y - 300.0).abs() < 1e-9);
        // Rooted in the middle of a wide map, the view centres on the root.
        let wide = Rect::new(-4_000.0, 0.0, 8_000.0, 600.0);
        view.fit(&frame, wide);
        assert!((view.view_box(&frame).centre().x - 400.0).abs() < 1e-9);
        // Zooming out on request goes further.
        view.zoom(&frame, 0.1, None);
        assert!(view.scale() < MIN_FIT_SCALE);
    }

    #[test]
    fn fit_and_reveal_keep_clear_of_what_covers_the_canvas() {
        // A drawer over the right 300 px of the 800 px canvas.
        let frame = Frame {
            covered_right: 300.0,
            ..frame()
        };
        let mut view = Viewport::default();
        let map = Rect::new(0.0, 0.0, 250.0, 100.0);
        view.fit(&frame, map);
        assert_eq!(view.scale(), 1.0);
        // The map's centre is in the middle of the open 500 px, not of the canvas.
        let centre = view.to_screen(&frame, map.centre());
        assert!((centre.x - (100.0 + 250.0)).abs() < 1e-9, "{centre:?}");
        // Too wide for the open part: shrunk to it.
        view.fit(&frame, Rect::new(0.0, 0.0, 550.0, 100.0));
        assert!((view.scale() - 500.0 / 550.0).abs() < 1e-9);
        // A topic under the drawer is brought out from under it.
        let mut view = Viewport::default();
        view.fit(&frame, map);
        let hidden = Rect::new(700.0, 0.0, 50.0, 20.0);
        assert!(view.reveal(&frame, hidden));
        let right = view.to_screen(&frame, Point::new(750.0, 0.0));
        // (A fitted map is revealed in without a margin.)
        assert!(right.x <= 100.0 + 500.0 + 1e-9, "{right:?}");
        assert!(right.x > 100.0 + 500.0 - 1.0, "moved the least: {right:?}");
    }

    #[test]
    fn wheel_turns_are_pixels_and_zoom_in_upwards() {
        assert_eq!(wheel_pixels(0, 3.0, -4.0, 600.0), (3.0, -4.0));
        assert_eq!(wheel_pixels(1, 0.0, 2.0, 600.0), (0.0, 32.0));
        assert_eq!(wheel_pixels(2, 0.0, 1.0, 600.0), (0.0, 600.0));
        assert!(wheel_zoom(-100.0) > 1.0 && wheel_zoom(100.0) < 1.0);
        assert!((wheel_zoom(100.0) * wheel_zoom(-100.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn fit_takes_an_empty_map() {
        let frame = frame();
        let mut view = Viewport::default();
        view.fit(&frame, Rect::new(0.0, 0.0, 0.0, 0.0));
        assert_eq!(view.scale(), 1.0);
        assert!(view.scale().is_finite() && view.view_box(&frame).x.is_finite());
    }

    #[test]
    fn zoom_without_a_point_keeps_the_centre_and_is_clamped() {
        let frame = frame();
        let mut view = Viewport::default();
        let centre = view.view_box(&frame).centre();
        view.zoom(&frame, 1.25, None);
        assert!(!view.is_fitted());
        assert_eq!(view.scale(), 1.25);
        assert!(close_points(view.view_box(&frame).centre(), centre));
        for _ in 0..100 {
            view.zoom(&frame, 1.25, None);
        }
        assert_eq!(view.scale(), MAX_SCALE);
        for _ in 0..100 {
            view.zoom(&frame, 0.8, None);
        }
        assert_eq!(view.scale(), MIN_SCALE);
    }

    #[test]
    fn the_view_follows_the_root_when_the_map_grows() {
        let mut frame = frame();
        let mut view = Viewport::default();
        view.zoom(&frame, 2.0, Some(Point::new(200.0, 100.0)));
        let root_on_screen = view.to_screen(&frame, frame.root);
        // Someone adds topics on the left: the root moves right on the map.
        frame.root = Point::new(900.0, 340.0);
        assert!(close_points(
            view.to_screen(&frame, frame.root),
            root_on_screen
        ));
    }

    #[test]
    fn pinching_apart_zooms_about_the_fingers() {
        let frame = frame();
        let mut view = Viewport::default();
        let other = Point::new(300.0, 300.0);
        let was = Point::new(400.0, 300.0);
        // The moving finger goes twice as far from the other one: their middle moves from
        // (350, 300) to (400, 300).
        let now = Point::new(500.0, 300.0);
        let under_middle = view.to_map(&frame, Point::new(400.0, 300.0));
        view.pinch(&frame, was, now, other);
        assert!(close(view.scale(), 2.0));
        assert!(!view.is_fitted());
        // Zoomed about the new middle, then panned as far as the middle moved.
        let shown = view.to_screen(&frame, under_middle);
        assert!(close_points(shown, Point::new(450.0, 300.0)));
        // Fingers that do not move change nothing.
        let before = view;
        view.pinch(&frame, other, other, other);
        assert_eq!(view, before);
    }

    #[test]
    fn reveal_pans_the_least_and_keeps_a_margin() {
        let frame = frame();
        let mut view = Viewport::default();
        view.zoom(&frame, 1.0, None);
        // In view: nothing moves.
        assert!(!view.reveal(&frame, Rect::new(300.0, 200.0, 100.0, 30.0)));
        // Off the right edge: just enough to show it and the margin.
        let node = Rect::new(850.0, 200.0, 100.0, 30.0);
        assert!(view.reveal(&frame, node));
        let shown = view.view_box(&frame);
        assert!(close(
            shown.x + shown.width,
            node.x + node.width + REVEAL_MARGIN
        ));
        assert_eq!(shown.y, 0.0);
        // Off the top: its top edge, with the margin.
        let node = Rect::new(shown.x + 10.0, -500.0, 50.0, 30.0);
        assert!(view.reveal(&frame, node));
        assert!(close(view.view_box(&frame).y, node.y - REVEAL_MARGIN));
        // Taller than the view: its top first.
        let node = Rect::new(shown.x + 10.0, 0.0, 50.0, 5000.0);
        view.reveal(&frame, node);
        assert!(close(view.view_box(&frame).y, -REVEAL_MARGIN));
    }

    #[test]
    fn a_fitted_view_reveals_without_a_margin_and_stops_fitting_only_when_it_moves() {
        let frame = frame();
        let mut view = Viewport::default();
        view.fit(&frame, Rect::new(0.0, 0.0, 800.0, 600.0));
        // On the edge of a fitted map is in view.
        assert!(!view.reveal(&frame, Rect::new(700.0, 570.0, 100.0, 30.0)));
        assert!(view.is_fitted());
        assert!(view.reveal(&frame, Rect::new(790.0, 570.0, 100.0, 30.0)));
        assert!(!view.is_fitted());
        assert!(close(view.view_box(&frame).x + 800.0, 890.0));
    }

    fn any_frame() -> impl Strategy<Value = Frame> {
        (
            -500.0..500.0,
            -500.0..500.0,
            1.0..3000.0,
            1.0..3000.0,
            -1e5..1e5,
            -1e5..1e5,
        )
            .prop_map(|(x, y, w, h, rx, ry)| Frame::new(Rect::new(x, y, w, h), Point::new(rx, ry)))
    }

    /// Any view a person can reach: zooms and pans from the start.
    fn any_view() -> impl Strategy<Value = Viewport> {
        (
            any_frame(),
            prop::collection::vec((0.1..10.0, -2000.0..2000.0, -2000.0..2000.0), 0..6),
        )
            .prop_map(|(frame, moves)| {
                let mut view = Viewport::default();
                for (factor, x, y) in moves {
                    view.zoom(&frame, factor, Some(Point::new(x, y)));
                    view.pan(x / 3.0, y / 3.0);
                }
                view
            })
    }

    fn any_point() -> impl Strategy<Value = Point> {
        (-1e4..1e4, -1e4..1e4).prop_map(|(x, y)| Point::new(x, y))
    }

    fn near(a: Point, b: Point, tolerance: f64) -> bool {
        (a.x - b.x).abs() <= tolerance && (a.y - b.y).abs() <= tolerance
    }

    proptest! {
        #[test]
        fn screen_and_map_points_round_trip(
            view in any_view(),
            frame in any_frame(),
            p in any_point(),
        ) {
            // A CSS pixel on screen is at most 1/MIN_SCALE map units: compare in pixels.
            let back = view.to_screen(&frame, view.to_map(&frame, p));
            prop_assert!(near(back, p, 1e-6), "{p:?} came back as {back:?}");
            let m = view.to_map(&frame, view.to_screen(&frame, p));
            prop_assert!(near(m, p, 1e-6 / view.scale()), "{p:?} came back as {m:?}");
        }

        #[test]
        fn zoom_keeps_the_point_under_the_pointer_and_stays_in_bounds(
            view in any_view(),
            frame in any_frame(),
            factor in 0.001..1000.0,
            at in any_point(),
        ) {
            let mut zoomed = view;
            let under = view.to_map(&frame, at);
            zoomed.zoom(&frame, factor, Some(at));
            prop_assert!((MIN_SCALE..=MAX_SCALE).contains(&zoomed.scale()));
            prop_assert!(!zoomed.is_fitted());
            let still = zoomed.to_screen(&frame, under);
            prop_assert!(near(still, at, 1e-6), "{under:?} moved from {at:?} to {still:?}");
        }

        #[test]
        fn pan_moves_every_point_by_as_much(
            view in any_view(),
            frame in any_frame(),
            p in any_point(),
            x in -5000.0..5000.0,
            y in -5000.0..5000.0,
        ) {
            let before = view.to_screen(&frame, p);
            let mut panned = view;
            panned.pan(x, y);
            let after = panned.to_screen(&frame, p);
            prop_assert!(near(after, Point::new(before.x + x, before.y + y), 1e-6));
            prop_assert_eq!(panned.scale(), view.scale());
        }

        #[test]
        fn fit_shows_all_of_a_map_that_fits_readably_and_stays_on_any_other(
            view in any_view(),
            frame in any_frame(),
            x in -1e4..1e4,
            y in -1e4..1e4,
            w in 0.0..1e5,
            h in 0.0..1e5,
        ) {
            let mut fitted = view;
            let map = Rect::new(x, y, w, h);
            fitted.fit(&frame, map);
            prop_assert!(fitted.is_fitted());
            prop_assert!((MIN_FIT_SCALE..=1.0).contains(&fitted.scale()));
            let shown = fitted.view_box(&frame);
            let (w, h) = (w.max(1.0), h.max(1.0));
            let slack = 1e-6 * (1.0 + x.abs() + y.abs() + w + h);
            if w * MIN_FIT_SCALE <= frame.canvas.width && h * MIN_FIT_SCALE <= frame.canvas.height {
                prop_assert!(near(shown.centre(), Point::new(x + w / 2.0, y + h / 2.0), 1e-6));
                prop_assert!(shown.x <= x + slack && shown.x + shown.width >= x + w - slack);
                prop_assert!(shown.y <= y + slack && shown.y + shown.height >= y + h - slack);
            } else {
                // What is shown is all map along an axis the map does not fit.
                if w * fitted.scale() > frame.canvas.width {
                    prop_assert!(shown.x >= x - slack && shown.x + shown.width <= x + w + slack);
                }
                if h * fitted.scale() > frame.canvas.height {
                    prop_assert!(shown.y >= y - slack && shown.y + shown.height <= y + h + slack);
                }
            }
        }

        #[test]
        fn a_revealed_topic_that_fits_is_in_view(
            view in any_view(),
            frame in any_frame(),
            node_at in any_point(),
            w in 1.0..300.0,
            h in 1.0..60.0,
        ) {
            let node = Rect::new(node_at.x, node_at.y, w, h);
            let mut moved = view;
            moved.reveal(&frame, node);
            let shown = moved.view_box(&frame);
            prop_assert_eq!(moved.scale(), view.scale());
            // A fitted map is revealed in without a margin.
            let margin = if view.is_fitted() { 0.0 } else { REVEAL_MARGIN / view.scale() };
            let slack = 1e-6 * (1.0 + node_at.x.abs() + node_at.y.abs() + shown.width + shown.height);
            if w + 2.0 * margin <= shown.width {
                prop_assert!(shown.x <= node.x - margin + slack);
                prop_assert!(node.x + w + margin <= shown.x + shown.width + slack);
            }
            if h + 2.0 * margin <= shown.height {
                prop_assert!(shown.y <= node.y - margin + slack);
                prop_assert!(node.y + h + margin <= shown.y + shown.height + slack);
            }
            // Revealing again moves nothing (a fitted view stopped fitting, so not for it).
            if !view.is_fitted() {
                let again = moved;
                moved.reveal(&frame, node);
                prop_assert!(near(moved.view_box(&frame).centre(), again.view_box(&frame).centre(), slack));
            }
        }
    }
}
