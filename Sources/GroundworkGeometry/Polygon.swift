/// A simple polygon ring in Groundwork's frame: vertices in continuous pixel coordinates of the
/// displayed image, implicitly closed (the last vertex connects back to the first; repeating the
/// first vertex at the end is allowed and harmless).
///
/// COCO `segmentation` polygons are taken as continuous coordinates in this same frame, so
/// `Polygon(flat:)` and `flat` convert to and from COCO without any offset. Other vertex
/// conventions go through `PointConvention`.
///
/// The type does not enforce well-formedness; `Polygon(flat:)` validates, and `isSimple` says
/// whether a ring is a proper simple polygon. Encoded in JSON as the flat array
/// `[x1, y1, x2, y2, ...]` and decoded through `Polygon(flat:)`.
public struct Polygon: Codable, Hashable, Sendable {
    /// The vertices, in order.
    public var points: [Point]

    /// Creates a ring from its vertices; no validation.
    public init(points: [Point]) {
        self.points = points
    }

    /// Creates a ring from a COCO-style flat list `[x1, y1, x2, y2, ...]` of continuous
    /// coordinates in Groundwork's frame.
    /// - Throws: `GeometryError` when the count is odd, when there are fewer than 3 points, or
    ///   when a number is not finite.
    public init(flat: [Double]) throws(GeometryError) {
        guard flat.count % 2 == 0 else {
            throw GeometryError("polygon has an odd number of coordinates (\(flat.count))")
        }
        guard flat.count >= 6 else {
            throw GeometryError("polygon needs at least 3 points, got \(flat.count / 2)")
        }
        guard flat.allSatisfy(\.isFinite) else {
            throw GeometryError("polygon has a non-finite coordinate")
        }
        var points: [Point] = []
        points.reserveCapacity(flat.count / 2)
        var index = 0
        while index < flat.count {
            points.append(Point(x: flat[index], y: flat[index + 1]))
            index += 2
        }
        self.points = points
    }

    /// The COCO-style flat list `[x1, y1, x2, y2, ...]`.
    public var flat: [Double] {
        var values: [Double] = []
        values.reserveCapacity(points.count * 2)
        for point in points {
            values.append(point.x)
            values.append(point.y)
        }
        return values
    }

    /// True when every vertex is finite.
    public var isFinite: Bool { points.allSatisfy(\.isFinite) }

    /// The signed shoelace area (square pixels): positive when the vertices run clockwise as
    /// displayed (the y axis points down), negative when counter-clockwise, 0 for fewer than 3
    /// points. For a self-intersecting ring this is the winding-weighted area, not the covered
    /// area.
    public var signedArea: Double {
        guard points.count >= 3 else { return 0 }
        // Shoelace relative to the first vertex: the same value, with less cancellation.
        let origin = points[0]
        var sum = 0.0
        var previousX = 0.0
        var previousY = 0.0
        for point in points.dropFirst() {
            let x = point.x - origin.x
            let y = point.y - origin.y
            sum += previousX * y - x * previousY
            previousX = x
            previousY = y
        }
        return sum / 2
    }

    /// The enclosed area by the shoelace formula, absolute value (square pixels). 0 for fewer
    /// than 3 points; not finite when a vertex is not. For a self-intersecting ring this is
    /// `|signedArea|`, in which oppositely wound lobes cancel.
    public var area: Double { Swift.abs(signedArea) }

    /// The tight box of the vertices, or nil when there are no vertices or a vertex is not
    /// finite. A single vertex, or collinear axis-aligned vertices, give a degenerate box.
    ///
    /// These are continuous vertex bounds, not the bounds of the pixels the ring rasterises to.
    public var bounds: Box? {
        guard let first = points.first, isFinite else { return nil }
        var box = Box(x0: first.x, y0: first.y, x1: first.x, y1: first.y)
        for point in points.dropFirst() {
            box.x0 = Swift.min(box.x0, point.x)
            box.y0 = Swift.min(box.y0, point.y)
            box.x1 = Swift.max(box.x1, point.x)
            box.y1 = Swift.max(box.y1, point.y)
        }
        return box
    }

    /// The length of the closed boundary, in pixels.
    public var perimeter: Double {
        guard points.count >= 2 else { return 0 }
        var total = 0.0
        var previous = points[points.count - 1]
        for point in points {
            let dx = point.x - previous.x
            let dy = point.y - previous.y
            total += (dx * dx + dy * dy).squareRoot()
            previous = point
        }
        return total
    }

    /// The vertices with consecutive duplicates removed, including a last vertex that repeats
    /// the first: the ring's distinct corners, in order.
    public var distinctVertices: [Point] {
        var result: [Point] = []
        result.reserveCapacity(points.count)
        for point in points where result.last != point {
            result.append(point)
        }
        while result.count > 1, result.last == result.first {
            result.removeLast()
        }
        return result
    }

    /// True when the ring crosses or touches itself.
    ///
    /// The test runs on `distinctVertices` (consecutive repeats, such as a closing vertex equal
    /// to the first, are not intersections). It reports `true` when any two non-adjacent edges
    /// share a point — a proper crossing (bow-tie), a vertex lying on another edge, or two
    /// non-consecutive vertices that coincide — and when two adjacent edges overlap along more
    /// than their shared vertex (a spike that folds back on itself). Predicates are exact
    /// (floating-point filter with an exact fallback), so touching is detected exactly.
    ///
    /// Rings with fewer than 3 distinct vertices report `false` (they have no area: see
    /// `isSimple`); rings with a non-finite vertex report `true`. Cost O(n log n + k) where k is
    /// the number of edge pairs whose x-ranges overlap, at worst O(n²).
    public var isSelfIntersecting: Bool {
        guard isFinite else { return true }
        var ring = distinctVertices
        let n = ring.count
        guard n >= 3 else { return false }
        Predicates.normaliseMagnitude(&ring)

        // Adjacent edges a→b, b→c overlap beyond b exactly when a, b, c are collinear and a, c
        // lie on the same side of b.
        for index in 0..<n {
            let a = ring[(index + n - 1) % n]
            let b = ring[index]
            let c = ring[(index + 1) % n]
            if Predicates.orientation(a, b, c) == 0 && Predicates.sameSide(a, c, of: b) {
                return true
            }
        }
        guard n > 3 else { return false }

        // Non-adjacent edges: sweep edges by their left end, testing only x-overlapping pairs.
        var minX = [Double](repeating: 0, count: n)
        var maxX = [Double](repeating: 0, count: n)
        var minY = [Double](repeating: 0, count: n)
        var maxY = [Double](repeating: 0, count: n)
        for index in 0..<n {
            let p = ring[index]
            let q = ring[(index + 1) % n]
            minX[index] = Swift.min(p.x, q.x)
            maxX[index] = Swift.max(p.x, q.x)
            minY[index] = Swift.min(p.y, q.y)
            maxY[index] = Swift.max(p.y, q.y)
        }
        let order = (0..<n).sorted { minX[$0] < minX[$1] }
        for first in 0..<n {
            let i = order[first]
            var second = first + 1
            while second < n {
                let j = order[second]
                second += 1
                if minX[j] > maxX[i] { break }
                if (i + 1) % n == j || (j + 1) % n == i { continue }
                if minY[j] > maxY[i] || minY[i] > maxY[j] { continue }
                if Predicates.segmentsIntersect(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n]) {
                    return true
                }
            }
        }
        return false
    }

    /// True when the ring is a proper simple polygon: finite, at least 3 distinct vertices, not
    /// self-intersecting, and a non-zero area.
    public var isSimple: Bool {
        isFinite && distinctVertices.count >= 3 && area > 0 && !isSelfIntersecting
    }

    /// The ring with every x multiplied by `sx` and every y by `sy` (a change of resolution).
    public func scaled(x sx: Double, y sy: Double) -> Polygon {
        Polygon(points: points.map { Point(x: $0.x * sx, y: $0.y * sy) })
    }

    /// Decodes the flat array `[x1, y1, x2, y2, ...]` through `Polygon(flat:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let flat = try container.decode([Double].self)
        do {
            try self.init(flat: flat)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    /// Encodes the flat array `[x1, y1, x2, y2, ...]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(flat)
    }
}

/// Exact geometric predicates on doubles.
enum Predicates {
    /// Scales the points by a power of two (exactly) so that the largest magnitude lies in
    /// [2^-200, 2^200], keeping the products in `orientation` far from overflow and underflow.
    static func normaliseMagnitude(_ points: inout [Point]) {
        var largest = 0.0
        for point in points {
            largest = Swift.max(largest, Swift.abs(point.x), Swift.abs(point.y))
        }
        guard largest > 0, largest.isFinite else { return }
        let exponent = Int(largest.exponent)
        guard exponent > 200 || exponent < -200 else { return }
        let scale = Double(sign: .plus, exponent: -exponent, significand: 1)
        for index in points.indices {
            points[index] = Point(x: points[index].x * scale, y: points[index].y * scale)
        }
    }

    /// The sign of the orientation determinant of (a, b, c): +1, −1 or 0 (collinear), exact
    /// for finite inputs whose products neither overflow nor underflow.
    ///
    /// A floating-point evaluation with Shewchuk's error bound decides almost every case; the
    /// rest are settled by summing the six exact two-products of the expanded determinant.
    static func orientation(_ a: Point, _ b: Point, _ c: Point) -> Int {
        let left = (a.x - c.x) * (b.y - c.y)
        let right = (a.y - c.y) * (b.x - c.x)
        let determinant = left - right
        let bound = 3.3306690738754716e-16 * (Swift.abs(left) + Swift.abs(right))
        if determinant > bound { return 1 }
        if -determinant > bound { return -1 }
        return exactOrientation(a, b, c)
    }

    /// det = ax·by − ax·cy − cx·by − ay·bx + ay·cx + cy·bx (the cx·cy terms cancel), summed
    /// exactly as a floating-point expansion.
    private static func exactOrientation(_ a: Point, _ b: Point, _ c: Point) -> Int {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 13) { expansion in
            var count = 0
            func add(_ value: Double) {
                guard value != 0 else { return }
                // Grow-Expansion (Shewchuk): components stay non-overlapping, increasing magnitude.
                var q = value
                var kept = 0
                for index in 0..<count {
                    let sum = q + expansion[index]
                    let virtual = sum - q
                    let error = (q - (sum - virtual)) + (expansion[index] - virtual)
                    q = sum
                    if error != 0 {
                        expansion[kept] = error
                        kept += 1
                    }
                }
                expansion[kept] = q
                count = kept + 1
            }
            func addProduct(_ x: Double, _ y: Double, negated: Bool) {
                let product = x * y
                let error = (-product).addingProduct(x, y)  // exact: x·y − fl(x·y)
                add(negated ? -product : product)
                add(negated ? -error : error)
            }
            addProduct(a.x, b.y, negated: false)
            addProduct(a.x, c.y, negated: true)
            addProduct(c.x, b.y, negated: true)
            addProduct(a.y, b.x, negated: true)
            addProduct(a.y, c.x, negated: false)
            addProduct(c.y, b.x, negated: false)
            var index = count - 1
            while index >= 0 {
                let value = expansion[index]
                if value > 0 { return 1 }
                if value < 0 { return -1 }
                index -= 1
            }
            return 0
        }
    }

    /// For collinear a, b, c with a ≠ b and c ≠ b: true when a and c lie on the same side of b.
    static func sameSide(_ a: Point, _ c: Point, of b: Point) -> Bool {
        if a.x != b.x || c.x != b.x {
            return (a.x < b.x) == (c.x < b.x) && a.x != b.x && c.x != b.x
        }
        return (a.y < b.y) == (c.y < b.y)
    }

    /// For p collinear with segment [a, b]: true when p lies on the closed segment.
    private static func onSegment(_ a: Point, _ b: Point, _ p: Point) -> Bool {
        Swift.min(a.x, b.x) <= p.x && p.x <= Swift.max(a.x, b.x) && Swift.min(a.y, b.y) <= p.y
            && p.y <= Swift.max(a.y, b.y)
    }

    /// True when the closed segments [p1, p2] and [p3, p4] share at least one point.
    static func segmentsIntersect(_ p1: Point, _ p2: Point, _ p3: Point, _ p4: Point) -> Bool {
        let d1 = orientation(p3, p4, p1)
        let d2 = orientation(p3, p4, p2)
        let d3 = orientation(p1, p2, p3)
        let d4 = orientation(p1, p2, p4)
        if d1 * d2 < 0 && d3 * d4 < 0 { return true }
        if d1 == 0 && onSegment(p3, p4, p1) { return true }
        if d2 == 0 && onSegment(p3, p4, p2) { return true }
        if d3 == 0 && onSegment(p1, p2, p3) { return true }
        if d4 == 0 && onSegment(p1, p2, p4) { return true }
        return false
    }
}
