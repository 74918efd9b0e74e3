import Foundation
import GroundworkCore
import Testing

@testable import GroundworkGeometry

/// The package root, found from this file's path (Tests/GroundworkGeometryTests/...).
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// True when every element of `a` is within `tolerance` of the matching element of `b`.
func isClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

/// A mask from rows of "0"/"1" (or "."/"#") characters, top row first.
func mask(_ rows: [String]) -> BinaryMask {
    let height = rows.count
    let width = rows.first?.count ?? 0
    var pixels: [UInt8] = []
    for row in rows {
        precondition(row.count == width, "ragged mask literal")
        for character in row { pixels.append(character == "1" || character == "#" ? 1 : 0) }
    }
    return try! BinaryMask(width: width, height: height, pixels: pixels)
}

/// The rows of a mask as "0"/"1" strings, top row first (for readable failures).
func rows(_ mask: BinaryMask) -> [String] {
    (0..<mask.height).map { y in String((0..<mask.width).map { x in mask[x, y] ? "1" : "0" }) }
}

/// A random mask of the given size: noise with density `density`, or, when `blobs > 0`, the
/// union of that many random rectangles.
func randomMask(
    width: Int, height: Int, density: Double, blobs: Int = 0, using generator: inout SplitMix64
) -> BinaryMask {
    var result = BinaryMask(width: width, height: height)
    if blobs > 0 {
        for _ in 0..<blobs {
            let x0 = Int.random(in: 0..<width, using: &generator)
            let y0 = Int.random(in: 0..<height, using: &generator)
            let x1 = Int.random(in: x0...width, using: &generator)
            let y1 = Int.random(in: y0...height, using: &generator)
            for y in y0..<y1 {
                for x in x0..<x1 { result[x, y] = true }
            }
        }
        return result
    }
    for index in result.pixels.indices where Double.random(in: 0..<1, using: &generator) < density {
        result.pixels[index] = 1
    }
    return result
}

/// A random box with positive area, mostly inside a `width` × `height` image but sometimes
/// sticking out, with fractional coordinates.
func randomBox(width: Int, height: Int, using generator: inout SplitMix64) -> Box {
    let w = Double(width)
    let h = Double(height)
    let x0 = Double.random(in: -0.1 * w..<w, using: &generator)
    let y0 = Double.random(in: -0.1 * h..<h, using: &generator)
    let x1 = x0 + Double.random(in: 0.01..<(0.6 * w), using: &generator)
    let y1 = y0 + Double.random(in: 0.01..<(0.6 * h), using: &generator)
    return Box(x0: x0, y0: y0, x1: x1, y1: y1)
}

/// The brute-force even-odd pixel-centre test the scanline fill must reproduce: pixel (i, j)
/// is inside a ring when an odd number of its edges cross the row's centre line (half-open
/// in y) at an x at or left of the pixel centre. Uses the same crossing formula as the fill.
func bruteForceInside(_ ring: Polygon, column: Int, row: Int) -> Bool {
    let points = ring.points
    guard points.count >= 3 else { return false }
    let cx = Double(column) + 0.5
    let cy = Double(row) + 0.5
    var inside = false
    var previous = points[points.count - 1]
    for point in points {
        defer { previous = point }
        guard point.y != previous.y else { continue }
        let (low, high) = point.y < previous.y ? (point, previous) : (previous, point)
        guard low.y <= cy, cy < high.y else { continue }
        let t = (cy - low.y) / (high.y - low.y)
        let x = low.x + (high.x - low.x) * t
        if x <= cx { inside.toggle() }
    }
    return inside
}
