import Foundation
import GroundworkCore
import GroundworkGeometry

/// Validation of one region's geometry against its image, shared by every importer and by
/// `groundwork validate`.
///
/// Findings: a non-finite coordinate, an empty region (zero or negative size, a mask with no
/// pixel), a polygon with fewer than 3 points, a mask whose size is not the image's (errors);
/// a self-intersecting polygon (warning); a region outside the image (error, or with `clip`,
/// clipped and recorded as a warning). The tolerance for "outside" is 1e-6 px.
public enum GeometryCheck {
    /// The tolerance, in pixels, within which a coordinate on the wrong side of an image edge is
    /// taken as on the edge (and snapped to it).
    public static let edgeTolerance = 1e-6

    /// A finding without a file: severity, code and message.
    public struct Finding: Sendable, Equatable {
        public var severity: Severity
        public var code: String
        public var message: String
    }

    /// Checks a geometry; see the type's documentation for the rules.
    public static func check(_ geometry: Geometry, width: Int, height: Int, clip: Bool) -> (
        result: (Geometry, Bool)?, diagnostics: [Finding]
    ) {
        var findings: [Finding] = []
        func error(_ code: String, _ message: String) -> (result: (Geometry, Bool)?, diagnostics: [Finding]) {
            findings.append(Finding(severity: .error, code: code, message: message))
            return (nil, findings)
        }
        let frame = Box(x0: 0, y0: 0, x1: Double(width), y1: Double(height))
        switch geometry {
        case .box(let box):
            guard box.isFinite else { return error("non_finite", "the box has a NaN or infinite coordinate") }
            guard box.hasPositiveArea else {
                return error("empty_region", "the box \(format(box)) has zero or negative size")
            }
            if box.isInside(width: width, height: height, tolerance: edgeTolerance) {
                return ((.box(snap(box, width: width, height: height)), false), findings)
            }
            guard clip, let clipped = box.clipped(width: width, height: height) else {
                return error(
                    "outside_image",
                    "the box \(format(box)) is outside the \(width)×\(height) image\(clip ? " entirely" : " (pass --clip to clip it)")"
                )
            }
            findings.append(
                Finding(severity: .warning, code: "clipped", message: "the box \(format(box)) was clipped to \(format(clipped))"))
            return ((.box(clipped), true), findings)
        case .polygon(let rings):
            guard !rings.isEmpty else { return error("empty_region", "the polygon has no points") }
            for ring in rings {
                guard ring.points.count >= 3 else {
                    return error("too_few_points", "a polygon needs at least 3 points, found \(ring.points.count)")
                }
                guard ring.points.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else {
                    return error("non_finite", "the polygon has a NaN or infinite coordinate")
                }
            }
            guard rings.reduce(0, { $0 + $1.area }) > 0 else { return error("empty_region", "the polygon has zero area") }
            if rings.contains(where: \.isSelfIntersecting) {
                findings.append(Finding(severity: .warning, code: "self_intersecting", message: "the polygon intersects itself"))
            }
            let ringBounds = rings.compactMap(\.bounds)
            guard var bounds = ringBounds.first else { return error("empty_region", "the polygon has no points") }
            for other in ringBounds.dropFirst() { bounds = bounds.union(other) }
            if bounds.isInside(width: width, height: height, tolerance: edgeTolerance) {
                let snapped = rings.map { Polygon(points: $0.points.map { clamp($0, to: frame) }) }
                return ((.polygon(snapped), false), findings)
            }
            guard clip else {
                return error(
                    "outside_image",
                    "the polygon (bounds \(format(bounds))) reaches outside the \(width)×\(height) image (pass --clip to clip it)"
                )
            }
            let clipped = rings.map { Polygon(points: $0.points.map { clamp($0, to: frame) }) }
            guard clipped.reduce(0, { $0 + $1.area }) > 0 else {
                return error("outside_image", "the polygon (bounds \(format(bounds))) lies outside the \(width)×\(height) image")
            }
            findings.append(Finding(severity: .warning, code: "clipped", message: "the polygon was clipped to the image"))
            return ((.polygon(clipped), true), findings)
        case .mask(let rle):
            guard rle.width == width && rle.height == height else {
                return error("mask_size", "the mask is \(rle.width)×\(rle.height), the image is \(width)×\(height)")
            }
            guard rle.area > 0 else { return error("empty_region", "the mask has no pixel set") }
            return ((geometry, false), findings)
        }
    }

    /// The geometry as canonical JSON (sorted keys, integral numbers without a fraction, others in
    /// their shortest round-trip form): what is stored and hashed. Written by hand for boxes and
    /// polygons (the import's hot path) and by `JSONEncoder` for masks; both give the same text as
    /// `JSONEncoder` with sorted keys (tested).
    public static func canonicalJSON(_ geometry: Geometry) -> String {
        switch geometry {
        case .box(let box):
            return "{\"box\":[\(number(box.x0)),\(number(box.y0)),\(number(box.x1)),\(number(box.y1))],\"type\":\"box\"}"
        case .polygon(let rings):
            var text = "{\"polygons\":["
            for (r, ring) in rings.enumerated() {
                if r > 0 { text += "," }
                text += "["
                for (p, point) in ring.points.enumerated() {
                    if p > 0 { text += "," }
                    text += number(point.x) + "," + number(point.y)
                }
                text += "]"
            }
            return text + "],\"type\":\"polygon\"}"
        case .mask:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? String(decoding: encoder.encode(geometry), as: UTF8.self)) ?? "{}"
        }
    }

    /// A JSON object of strings with sorted keys, as `CanonicalJSON` writes it compactly.
    public static func canonicalJSON(_ object: [String: String]) -> String {
        guard !object.isEmpty else { return "{}" }
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(128)
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendJSONString(object[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array of strings, as `CanonicalJSON` writes it compactly.
    public static func canonicalJSON(_ array: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(64)
        for (i, value) in array.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(value, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, slashes and
    /// non-ASCII characters kept.
    static func jsonString(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 2)
        appendJSONString(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` as a JSON string literal (see ``jsonString(_:)``) in UTF-8. Bytes of
    /// multi-byte characters are all at least 0x80, so escaping byte by byte is escaping by scalar.
    static func appendJSONString(_ value: String, to out: inout [UInt8]) {
        func hex(_ digit: UInt8) -> UInt8 { digit < 10 ? 0x30 + digit : 0x57 + digit }
        let backslash = UInt8(ascii: "\\")
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            let escape: UInt8?
            switch byte {
            case UInt8(ascii: "\""), backslash: escape = byte
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x09: escape = UInt8(ascii: "t")
            case 0x08: escape = UInt8(ascii: "b")
            case 0x0C: escape = UInt8(ascii: "f")
            default: escape = nil
            }
            if let escape {
                out.append(backslash)
                out.append(escape)
            } else if byte < 0x20 {
                out.append(backslash)
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(hex(byte >> 4))
                out.append(hex(byte & 0x0F))
            } else {
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func snap(_ box: Box, width: Int, height: Int) -> Box {
        Box(
            x0: min(max(box.x0, 0), Double(width)), y0: min(max(box.y0, 0), Double(height)),
            x1: min(max(box.x1, 0), Double(width)), y1: min(max(box.y1, 0), Double(height)))
    }

    private static func clamp(_ point: Point, to frame: Box) -> Point {
        Point(x: min(max(point.x, frame.x0), frame.x1), y: min(max(point.y, frame.y0), frame.y1))
    }

    static func format(_ box: Box) -> String {
        "[\(number(box.x0)), \(number(box.y0)), \(number(box.x1)), \(number(box.y1))]"
    }

    /// A number as JSON: integral values below 2^53 without a fraction, others in Swift's shortest
    /// round-trip form (as `JSONEncoder` writes them).
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 9_007_199_254_740_992 ? String(Int64(value)) : value.description
    }
}
