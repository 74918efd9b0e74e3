/// A region's shape, in Groundwork's frame (continuous, half-open, 0-based pixel coordinates of
/// the displayed image).
///
/// Encoded in JSON as one of
/// - `{"type": "box", "box": [x0, y0, x1, y1]}`
/// - `{"type": "polygon", "polygons": [[x1, y1, x2, y2, ...], ...]}` (rings unioned, as COCO)
/// - `{"type": "mask", "rle": {"size": [height, width], "counts": "<compressed>"}}`
///
/// Decoding validates the shape: a box must be finite with positive area, there must be at
/// least one ring and every ring must pass `Polygon(flat:)`, and the RLE must be consistent
/// (`RLE(compressed:height:width:)`, or COCO's uncompressed counts array).
public enum Geometry: Hashable, Sendable, Codable {
    /// An axis-aligned box.
    case box(Box)
    /// One or more polygon rings whose union is the region.
    case polygon([Polygon])
    /// A pixel mask at the image's resolution.
    case mask(RLE)

    /// `"box"`, `"polygon"` or `"mask"`: the JSON `type` tag.
    public var kind: String {
        switch self {
        case .box: return "box"
        case .polygon: return "polygon"
        case .mask: return "mask"
        }
    }

    /// The tight box: the box itself; the union of the rings' vertex bounds (continuous, so it
    /// can be slightly larger or smaller than the bounds of the rasterised pixels); the mask's
    /// pixel bounds. Nil for an empty mask, for no rings, or for a ring with a non-finite vertex.
    public var tightBox: Box? {
        switch self {
        case .box(let box):
            return box
        case .polygon(let rings):
            var result: Box?
            for ring in rings {
                guard let bounds = ring.bounds else {
                    if ring.points.isEmpty { continue }
                    return nil
                }
                result = result.map { $0.union(bounds) } ?? bounds
            }
            return result
        case .mask(let rle):
            return rle.bounds
        }
    }

    /// The region as a `width` × `height` pixel mask, by the pixel-centre rule of
    /// `BinaryMask.rasterize` (boxes and polygons), or the decoded mask. A mask whose size is not
    /// `width` × `height` rasterises to an empty mask of the requested size: the mismatch is a
    /// data error that `validate(imageWidth:imageHeight:)` reports.
    public func rasterize(width: Int, height: Int) -> BinaryMask {
        switch self {
        case .box(let box):
            return BinaryMask.rasterize(box: box, width: width, height: height)
        case .polygon(let rings):
            return BinaryMask.rasterize(polygons: rings, width: width, height: height)
        case .mask(let rle):
            guard rle.width == width, rle.height == height else {
                return BinaryMask(width: width, height: height)
            }
            return rle.mask()
        }
    }

    /// The region as a COCO RLE at `width` × `height`, by the same rules as `rasterize`. Boxes
    /// are encoded straight from runs (no pixel buffer); a mask of the right size is returned
    /// as is.
    public func rle(width: Int, height: Int) -> RLE {
        switch self {
        case .box(let box):
            return RLE(box: box, width: width, height: height)
        case .polygon:
            return RLE(mask: rasterize(width: width, height: height))
        case .mask(let rle):
            guard rle.width == width, rle.height == height else {
                return RLE(mask: BinaryMask(width: width, height: height))
            }
            return rle
        }
    }

    /// The area in square pixels: the box's continuous area, the sum of the rings' shoelace
    /// areas (overlapping rings count twice; use `rasterize(...).area` for covered pixels), or
    /// the mask's set-pixel count.
    public var area: Double {
        switch self {
        case .box(let box):
            return box.area
        case .polygon(let rings):
            return rings.reduce(0) { $0 + $1.area }
        case .mask(let rle):
            return Double(rle.area)
        }
    }

    /// Checks that the shape is well formed for a `imageWidth` × `imageHeight` image.
    ///
    /// - A box must be finite, have positive area and lie inside the image (within `tolerance`).
    /// - There must be at least one ring; every ring needs at least 3 finite vertices, a
    ///   non-zero area, and every vertex inside the image (within `tolerance`). Self-intersection
    ///   is not checked here (see `Polygon.isSelfIntersecting`).
    /// - A mask must have exactly the image's size and at least one set pixel.
    /// - Throws: `GeometryError` naming the first problem found.
    public func validate(imageWidth: Int, imageHeight: Int, tolerance: Double = 1e-9) throws(GeometryError) {
        guard imageWidth > 0, imageHeight > 0 else {
            throw GeometryError("image size \(imageWidth)x\(imageHeight) is not positive")
        }
        switch self {
        case .box(let box):
            guard box.isFinite else { throw GeometryError("box \(box.array) is not finite") }
            guard box.hasPositiveArea else {
                throw GeometryError("box \(box.array) does not have x0 < x1 and y0 < y1")
            }
            guard box.isInside(width: imageWidth, height: imageHeight, tolerance: tolerance) else {
                throw GeometryError("box \(box.array) is outside the \(imageWidth)x\(imageHeight) image")
            }
        case .polygon(let rings):
            guard !rings.isEmpty else { throw GeometryError("polygon region has no rings") }
            for (index, ring) in rings.enumerated() {
                guard ring.points.count >= 3 else {
                    throw GeometryError("polygon ring \(index) has \(ring.points.count) points, needs at least 3")
                }
                guard let bounds = ring.bounds else {
                    throw GeometryError("polygon ring \(index) has a non-finite vertex")
                }
                guard ring.area > 0 else {
                    throw GeometryError("polygon ring \(index) has zero area")
                }
                guard bounds.isInside(width: imageWidth, height: imageHeight, tolerance: tolerance) else {
                    throw GeometryError(
                        "polygon ring \(index) extends outside the \(imageWidth)x\(imageHeight) image (bounds \(bounds.array))")
                }
            }
        case .mask(let rle):
            guard rle.width == imageWidth, rle.height == imageHeight else {
                throw GeometryError(
                    "mask is \(rle.width)x\(rle.height) but the image is \(imageWidth)x\(imageHeight)")
            }
            guard !rle.isEmpty else { throw GeometryError("mask has no set pixel") }
        }
    }

    private enum CodingKeys: String, CodingKey { case type, box, polygons, rle }

    /// Decodes the tagged JSON form, validating the shape (see the type's documentation).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "box":
            let box = try container.decode(Box.self, forKey: .box)
            guard box.hasPositiveArea else {
                throw DecodingError.dataCorruptedError(
                    forKey: .box, in: container,
                    debugDescription: "box \(box.array) does not have x0 < x1 and y0 < y1")
            }
            self = .box(box)
        case "polygon":
            let rings = try container.decode([Polygon].self, forKey: .polygons)
            guard !rings.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .polygons, in: container, debugDescription: "a polygon region needs at least one ring")
            }
            self = .polygon(rings)
        case "mask":
            self = .mask(try container.decode(RLE.self, forKey: .rle))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container,
                debugDescription: "unknown geometry type \"\(type)\" (expected box, polygon or mask)")
        }
    }

    /// Encodes the tagged JSON form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .type)
        switch self {
        case .box(let box):
            try container.encode(box, forKey: .box)
        case .polygon(let rings):
            try container.encode(rings, forKey: .polygons)
        case .mask(let rle):
            try container.encode(rle, forKey: .rle)
        }
    }
}
