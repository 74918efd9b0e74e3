// Groundwork's one geometric frame.
//
// Every region is stored in ONE frame: 0-based, continuous, half-open pixel coordinates of the
// image AS DISPLAYED (after EXIF orientation). Pixel (i, j) — column i, row j — covers
// [i, i+1) × [j, j+1) and its centre is (i + 0.5, j + 0.5). The x axis points right and the
// y axis points down. A box covering exactly pixel (0, 0) is [0, 0, 1, 1]; a box touching the
// right edge of a W-wide image has x1 = W.

/// A problem with geometric input: a malformed box, polygon, mask or RLE string, or a
/// conversion that lacks what it needs. The message is meant for people and names the problem.
public struct GeometryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `"box has x1 <= x0 (5.0 <= 7.0)"`.
    public var message: String

    /// Creates an error with a human-readable message.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// A point in Groundwork's frame: continuous coordinates of the displayed image, x to the right
/// and y down, with pixel (i, j) covering [i, i+1) × [j, j+1).
///
/// Encoded in JSON as the two-element array `[x, y]`.
public struct Point: Codable, Hashable, Sendable {
    /// Horizontal coordinate, in pixels from the left edge of the displayed image.
    public var x: Double
    /// Vertical coordinate, in pixels from the top edge of the displayed image.
    public var y: Double

    /// Creates a point from continuous coordinates in Groundwork's frame.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// The centre of pixel (`column`, `row`): `(column + 0.5, row + 0.5)`.
    ///
    /// This is the conversion from a 0-based integer pixel index (as used by keypoints drawn
    /// on a pixel grid) to the continuous frame.
    public static func centre(ofPixelColumn column: Int, row: Int) -> Point {
        Point(x: Double(column) + 0.5, y: Double(row) + 0.5)
    }

    /// True when both coordinates are finite (neither NaN nor infinite).
    public var isFinite: Bool { x.isFinite && y.isFinite }

    /// Decodes the array `[x, y]`.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let x = try container.decode(Double.self)
        let y = try container.decode(Double.self)
        guard container.isAtEnd else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a point is exactly two numbers [x, y]")
        }
        self.init(x: x, y: y)
    }

    /// Encodes the array `[x, y]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(x)
        try container.encode(y)
    }
}

/// An axis-aligned box in Groundwork's frame: the half-open rectangle [x0, x1) × [y0, y1) in
/// continuous pixel coordinates of the displayed image.
///
/// A well-formed box has finite coordinates with `x0 < x1` and `y0 < y1`. The type does not
/// enforce this (so that bad input can be represented and reported); `isFinite` and
/// `hasPositiveArea` say whether a box is well formed, and every operation below states what it
/// does with a box that is not. `BoxConvention` converts from and to every external convention.
///
/// Encoded in JSON as the four-element array `[x0, y0, x1, y1]`.
public struct Box: Codable, Hashable, Sendable {
    /// Left edge (inclusive).
    public var x0: Double
    /// Top edge (inclusive).
    public var y0: Double
    /// Right edge (exclusive): a box touching the right edge of a W-wide image has `x1 == W`.
    public var x1: Double
    /// Bottom edge (exclusive): a box touching the bottom edge of an H-high image has `y1 == H`.
    public var y1: Double

    /// Creates a box from its corners in Groundwork's frame; no validation.
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// The box covering exactly the pixels with columns `columns` and rows `rows` (0-based
    /// integer indices): `[columns.lowerBound, rows.lowerBound, columns.upperBound, rows.upperBound]`.
    ///
    /// This is the conversion from an inclusive-exclusive range of integer pixel indices to the
    /// continuous frame; `BinaryMask.bounds` produces exactly these boxes.
    public init(columns: Range<Int>, rows: Range<Int>) {
        self.init(
            x0: Double(columns.lowerBound), y0: Double(rows.lowerBound),
            x1: Double(columns.upperBound), y1: Double(rows.upperBound))
    }

    /// `x1 - x0`, or 0 when the box is not finite or `x1 <= x0`.
    public var width: Double { isFinite && x1 > x0 ? x1 - x0 : 0 }

    /// `y1 - y0`, or 0 when the box is not finite or `y1 <= y0`.
    public var height: Double { isFinite && y1 > y0 ? y1 - y0 : 0 }

    /// `width * height`: 0 when the box is degenerate or not finite.
    public var area: Double { hasPositiveArea ? (x1 - x0) * (y1 - y0) : 0 }

    /// True when all four coordinates are finite (no NaN, no infinity).
    public var isFinite: Bool { x0.isFinite && y0.isFinite && x1.isFinite && y1.isFinite }

    /// True when the box is finite with `x0 < x1` and `y0 < y1`.
    public var hasPositiveArea: Bool { isFinite && x0 < x1 && y0 < y1 }

    /// The centre `((x0 + x1) / 2, (y0 + y1) / 2)`.
    public var centre: Point { Point(x: (x0 + x1) / 2, y: (y0 + y1) / 2) }

    /// `[x0, y0, x1, y1]`, Groundwork's (and `BoxConvention.xyxy`'s) four numbers.
    public var array: [Double] { [x0, y0, x1, y1] }

    /// The overlap of two boxes, or nil when they do not overlap with positive area (touching
    /// edges do not count) or either box is not finite.
    public func intersection(_ other: Box) -> Box? {
        guard isFinite, other.isFinite else { return nil }
        let box = Box(
            x0: Swift.max(x0, other.x0), y0: Swift.max(y0, other.y0),
            x1: Swift.min(x1, other.x1), y1: Swift.min(y1, other.y1))
        return box.hasPositiveArea ? box : nil
    }

    /// The bounding box of both boxes: the smallest box containing both.
    ///
    /// Coordinates are combined with IEEE `minimum`/`maximum`, so a NaN coordinate in one box
    /// yields the other box's coordinate; the result is otherwise not validated.
    public func union(_ other: Box) -> Box {
        Box(
            x0: Double.minimum(x0, other.x0), y0: Double.minimum(y0, other.y0),
            x1: Double.maximum(x1, other.x1), y1: Double.maximum(y1, other.y1))
    }

    /// Intersection over union of the two boxes' areas, in [0, 1].
    ///
    /// 0 when either box has no positive area, when they do not overlap, and when the result
    /// is not a finite number (coordinates so large that the areas overflow).
    public func iou(_ other: Box) -> Double {
        guard let overlap = intersection(other) else { return 0 }
        let shared = overlap.area
        let union = area + other.area - shared
        guard union > 0 else { return 0 }
        let ratio = shared / union
        return ratio.isFinite ? Swift.min(Swift.max(ratio, 0), 1) : 0
    }

    /// True when the box is finite and lies inside the `width` × `height` image, that is
    /// `x0 >= -tolerance`, `y0 >= -tolerance`, `x1 <= width + tolerance` and
    /// `y1 <= height + tolerance`.
    ///
    /// Only containment is checked: use `hasPositiveArea` to reject degenerate boxes. False for
    /// negative image sizes.
    public func isInside(width: Int, height: Int, tolerance: Double = 1e-9) -> Bool {
        guard isFinite, width >= 0, height >= 0 else { return false }
        let tolerance = tolerance.isFinite ? tolerance : 0
        return x0 >= -tolerance && y0 >= -tolerance && x1 <= Double(width) + tolerance
            && y1 <= Double(height) + tolerance
    }

    /// The part of the box inside the `width` × `height` image, i.e. its intersection with
    /// [0, width) × [0, height); nil when nothing with positive area is left, when the box is
    /// not finite, or when the image is empty.
    public func clipped(width: Int, height: Int) -> Box? {
        guard width > 0, height > 0 else { return nil }
        return intersection(Box(x0: 0, y0: 0, x1: Double(width), y1: Double(height)))
    }

    /// The box with every x coordinate multiplied by `sx` and every y coordinate by `sy`: the
    /// conversion between two resolutions of the same image (e.g. `sx = newWidth / oldWidth`).
    public func scaled(x sx: Double, y sy: Double) -> Box {
        Box(x0: x0 * sx, y0: y0 * sy, x1: x1 * sx, y1: y1 * sy)
    }

    /// The box moved by (`dx`, `dy`).
    public func offsetBy(dx: Double, dy: Double) -> Box {
        Box(x0: x0 + dx, y0: y0 + dy, x1: x1 + dx, y1: y1 + dy)
    }

    /// True when `point` lies in the half-open box [x0, x1) × [y0, y1).
    public func contains(_ point: Point) -> Bool {
        point.x >= x0 && point.x < x1 && point.y >= y0 && point.y < y1
    }

    /// Decodes the array `[x0, y0, x1, y1]` (no further validation).
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var values: [Double] = []
        values.reserveCapacity(4)
        while !container.isAtEnd && values.count < 5 {
            values.append(try container.decode(Double.self))
        }
        guard values.count == 4 else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "a box is exactly four numbers [x0, y0, x1, y1]"))
        }
        self.init(x0: values[0], y0: values[1], x1: values[2], y1: values[3])
    }

    /// Encodes the array `[x0, y0, x1, y1]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(x0)
        try container.encode(y0)
        try container.encode(x1)
        try container.encode(y1)
    }
}
