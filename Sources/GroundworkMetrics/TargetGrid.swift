import GroundworkGeometry

/// How a grid cell becomes part of the target.
public enum CellRule: String, Sendable, Hashable, Codable, CaseIterable {
    /// A cell is target (weight 1) when the target overlaps it with positive area (the VGMED
    /// study's rule; the default).
    case overlap
    /// A cell's weight is the fraction of its area that the target covers.
    case coverage
}

/// A question's target in image coordinates: the union of its regions, as rectangles (boxes,
/// and each mask as the rectangles of its runs) and polygon rings.
public struct TargetShape: Sendable, Hashable {
    /// Boxes and mask pieces, continuous half-open image coordinates.
    public var rects: [Box]
    /// Polygon rings, image coordinates.
    public var rings: [Polygon]
    /// The regions as given (for rasterising at image resolution).
    public var regions: [Geometry]

    /// The union of `regions` of a `width` × `height` image.
    public init(regions: [Geometry], width: Int, height: Int) {
        self.regions = regions
        rects = []
        rings = []
        for region in regions {
            switch region {
            case .box(let box): rects.append(box)
            case .polygon(let polygons): rings.append(contentsOf: polygons.filter { $0.points.count >= 3 })
            case .mask(let rle): rects.append(contentsOf: TargetShape.rectangles(of: rle.mask()))
            }
        }
    }

    /// A mask as disjoint rectangles: runs of set pixels per row, merged down while the next
    /// row has the same run.
    static func rectangles(of mask: BinaryMask) -> [Box] {
        var result: [Box] = []
        var open: [Int: (start: Int, x1: Int)] = [:]  // x0 → (first row, x1)
        for y in 0..<mask.height {
            var runs: [(Int, Int)] = []
            var x = 0
            while x < mask.width {
                if mask.pixels[y * mask.width + x] != 0 {
                    let start = x
                    while x < mask.width && mask.pixels[y * mask.width + x] != 0 { x += 1 }
                    runs.append((start, x))
                } else {
                    x += 1
                }
            }
            var next: [Int: (start: Int, x1: Int)] = [:]
            for (x0, x1) in runs {
                if let current = open[x0], current.x1 == x1 {
                    next[x0] = current
                    open[x0] = nil
                } else {
                    next[x0] = (y, x1)
                }
            }
            for (x0, piece) in open.sorted(by: { $0.key < $1.key }) {
                result.append(Box(x0: Double(x0), y0: Double(piece.start), x1: Double(piece.x1), y1: Double(y)))
            }
            open = next
        }
        for (x0, piece) in open.sorted(by: { $0.key < $1.key }) {
            result.append(Box(x0: Double(x0), y0: Double(piece.start), x1: Double(piece.x1), y1: Double(mask.height)))
        }
        return result
    }

    /// The target's area within `window` (image pixels): the exact union of the rectangles
    /// plus the rings' clipped areas (rings are taken as disjoint from each other and from the
    /// rectangles; where they overlap, the overlap counts twice).
    public func area(within window: Box) -> Double {
        let clipped = rects.compactMap { $0.intersection(window) }.filter(\.hasPositiveArea)
        var total = unionArea(clipped)
        for ring in rings { total += clippedArea(ring.points, to: window) }
        return total
    }

    /// Euclidean distance from a point to the target (0 inside).
    public func distance(to point: Point) -> Double {
        var best = Double.infinity
        for r in rects {
            let dx = Swift.max(r.x0 - point.x, 0, point.x - r.x1)
            let dy = Swift.max(r.y0 - point.y, 0, point.y - r.y1)
            best = Swift.min(best, (dx * dx + dy * dy).squareRoot())
            if best == 0 { return 0 }
        }
        for ring in rings {
            if ringContains(ring.points, point) { return 0 }
            let p = ring.points
            for i in 0..<p.count {
                best = Swift.min(best, segmentDistance(point, p[i], p[(i + 1) % p.count]))
            }
        }
        return best
    }

    /// The tight bounds of every piece, or nil for an empty target.
    public var bounds: Box? {
        var result: Box?
        for r in rects { result = result.map { $0.union(r) } ?? r }
        for ring in rings {
            if let b = ring.bounds { result = result.map { $0.union(b) } ?? b }
        }
        return result
    }
}

/// The area of the union of rectangles (slab decomposition; exact).
func unionArea(_ rects: [Box]) -> Double {
    if rects.isEmpty { return 0 }
    if rects.count == 1 { return rects[0].area }
    var xs = Array(Set(rects.flatMap { [$0.x0, $0.x1] })).sorted()
    if xs.count < 2 { return 0 }
    xs.reserveCapacity(xs.count)
    var total = 0.0
    var spans: [(Double, Double)] = []
    for k in 0..<(xs.count - 1) {
        let left = xs[k]
        let right = xs[k + 1]
        spans.removeAll(keepingCapacity: true)
        for r in rects where r.x0 <= left && r.x1 >= right { spans.append((r.y0, r.y1)) }
        if spans.isEmpty { continue }
        spans.sort { $0.0 < $1.0 }
        var covered = 0.0
        var start = spans[0].0
        var end = spans[0].1
        for s in spans.dropFirst() {
            if s.0 > end {
                covered += end - start
                start = s.0
                end = s.1
            } else {
                end = Swift.max(end, s.1)
            }
        }
        covered += end - start
        total += covered * (right - left)
    }
    return total
}

/// The area of a polygon ring clipped to a rectangle (Sutherland–Hodgman against the
/// rectangle's four sides, then the shoelace formula; exact for any simple ring).
func clippedArea(_ ring: [Point], to box: Box) -> Double {
    var points = ring
    func clip(_ inside: (Point) -> Bool, _ cross: (Point, Point) -> Point) {
        guard !points.isEmpty else { return }
        var out: [Point] = []
        out.reserveCapacity(points.count + 4)
        var previous = points[points.count - 1]
        for current in points {
            let currentIn = inside(current)
            let previousIn = inside(previous)
            if currentIn {
                if !previousIn { out.append(cross(previous, current)) }
                out.append(current)
            } else if previousIn {
                out.append(cross(previous, current))
            }
            previous = current
        }
        points = out
    }
    func atX(_ x: Double) -> (Point, Point) -> Point {
        { a, b in Point(x: x, y: a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)) }
    }
    func atY(_ y: Double) -> (Point, Point) -> Point {
        { a, b in Point(x: a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y: y) }
    }
    clip({ $0.x >= box.x0 }, atX(box.x0))
    clip({ $0.x <= box.x1 }, atX(box.x1))
    clip({ $0.y >= box.y0 }, atY(box.y0))
    clip({ $0.y <= box.y1 }, atY(box.y1))
    guard points.count >= 3 else { return 0 }
    var twice = 0.0
    for i in 0..<points.count {
        let a = points[i]
        let b = points[(i + 1) % points.count]
        twice += a.x * b.y - b.x * a.y
    }
    return Swift.abs(twice) / 2
}

/// Even-odd point-in-ring test.
func ringContains(_ ring: [Point], _ p: Point) -> Bool {
    var inside = false
    var j = ring.count - 1
    for i in 0..<ring.count {
        let a = ring[i]
        let b = ring[j]
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y)
            if p.x < x { inside.toggle() }
        }
        j = i
    }
    return inside
}

func segmentDistance(_ p: Point, _ a: Point, _ b: Point) -> Double {
    let dx = b.x - a.x
    let dy = b.y - a.y
    let length = dx * dx + dy * dy
    var t = length > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / length : 0
    t = Swift.min(1, Swift.max(0, t))
    let x = a.x + t * dx - p.x
    let y = a.y + t * dy - p.y
    return (x * x + y * y).squareRoot()
}

/// A question's target carried onto the model's grid.
public struct MappedTarget: Sendable, Hashable {
    /// The target cells.
    public var cells: TargetCells
    /// The target's area in image pixels (rings as in `TargetShape.area(within:)`).
    public var targetPixels: Double
    /// Image pixels of the target the model never sees (cut by a centre crop).
    public var lostPixels: Double
}

/// Why a target cannot be scored.
public struct TargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short code: `target_outside_grid` or `empty_target`.
    public var code: String
    /// What happened.
    public var message: String
    public var description: String { message }
}

/// Carries targets onto grids.
public enum TargetMapper {
    /// Overlaps thinner than this fraction of a cell's side are treated as touching (floating-
    /// point noise of the mapping), not as overlap.
    public static let overlapTolerance = 1e-9

    /// Maps `shape` through `mapping` under `rule`. `tolerance` (image pixels, ≥ 0) widens the
    /// pointing game's hit set to cells whose centre lies within it of the target.
    ///
    /// For `none` (a grid at image resolution) the regions are rasterised by the pixel-centre
    /// rule of `Geometry.rasterize` and unioned; weights are 0 or 1 under either rule.
    /// - Throws: `TargetError` when the target covers no cell.
    public static func map(
        _ shape: TargetShape, through mapping: GridMapping, rule: CellRule, tolerance: Double = 0
    ) throws(TargetError) -> MappedTarget {
        let rows = mapping.rows
        let cols = mapping.cols
        var weights = [Double](repeating: 0, count: rows * cols)
        let whole = Box(x0: 0, y0: 0, x1: Double(mapping.imageWidth), y1: Double(mapping.imageHeight))
        let targetPixels = shape.area(within: whole)
        var lost = 0.0
        let identity =
            mapping.scaleX == 1 && mapping.scaleY == 1 && mapping.offsetX == 0 && mapping.offsetY == 0
            && rows == mapping.imageHeight && cols == mapping.imageWidth
        if identity {
            var union = BinaryMask(width: cols, height: rows)
            for region in shape.regions {
                let mask = region.rasterize(width: cols, height: rows)
                for i in 0..<mask.pixels.count where mask.pixels[i] != 0 { union.pixels[i] = 1 }
            }
            for i in 0..<weights.count where union.pixels[i] != 0 { weights[i] = 1 }
        } else {
            let visible = mapping.visibleImageBox
            lost = Swift.max(0, targetPixels - shape.area(within: visible))
            if lost < 1e-9 * Swift.max(1, targetPixels) { lost = 0 }
            fillWeights(&weights, shape: shape, mapping: mapping, rule: rule)
        }
        var pointing = weights.map { $0 > 0 }
        if tolerance > 0, let bounds = shape.bounds {
            let cw = mapping.cellWidth
            let ch = mapping.cellHeight
            for r in 0..<rows {
                for c in 0..<cols where !pointing[r * cols + c] {
                    let centre = mapping.toImage(Point(x: (Double(c) + 0.5) * cw, y: (Double(r) + 0.5) * ch))
                    if centre.x < bounds.x0 - tolerance || centre.x > bounds.x1 + tolerance
                        || centre.y < bounds.y0 - tolerance || centre.y > bounds.y1 + tolerance
                    {
                        continue
                    }
                    if shape.distance(to: centre) <= tolerance { pointing[r * cols + c] = true }
                }
            }
        }
        let cells = TargetCells(rows: rows, cols: cols, weights: weights, pointing: pointing)
        guard cells.supportCount > 0 else {
            if shape.rects.isEmpty && shape.rings.isEmpty {
                throw TargetError(code: "empty_target", message: "the target has no region with an area")
            }
            let why =
                lost > 0 && lost >= targetPixels * (1 - 1e-9)
                ? "the centre crop cuts all of it away" : "it is too small to overlap a cell with positive area"
            throw TargetError(
                code: "target_outside_grid",
                message: "the target covers no cell of the \(rows)x\(cols) grid: \(why)")
        }
        return MappedTarget(cells: cells, targetPixels: targetPixels, lostPixels: lost)
    }

    private static func fillWeights(_ weights: inout [Double], shape: TargetShape, mapping: GridMapping, rule: CellRule) {
        let rows = mapping.rows
        let cols = mapping.cols
        let cw = mapping.cellWidth
        let ch = mapping.cellHeight
        let cellArea = cw * ch
        let tolX = overlapTolerance * cw
        let tolY = overlapTolerance * ch
        // Rectangles: per cell, the input-space rectangles that overlap it.
        var perCell: [Int: [Box]] = [:]
        for rect in shape.rects {
            let r = mapping.toInput(rect)
            guard r.hasPositiveArea else { continue }
            let c0 = Swift.max(0, Int((r.x0 / cw).rounded(.down)) - 1)
            let c1 = Swift.min(cols - 1, Int((r.x1 / cw).rounded(.down)) + 1)
            let r0 = Swift.max(0, Int((r.y0 / ch).rounded(.down)) - 1)
            let r1 = Swift.min(rows - 1, Int((r.y1 / ch).rounded(.down)) + 1)
            guard c0 <= c1, r0 <= r1 else { continue }
            for row in r0...r1 {
                let top = Double(row) * ch
                let dy = Swift.min(r.y1, top + ch) - Swift.max(r.y0, top)
                guard dy > tolY else { continue }
                for col in c0...c1 {
                    let left = Double(col) * cw
                    let dx = Swift.min(r.x1, left + cw) - Swift.max(r.x0, left)
                    guard dx > tolX else { continue }
                    let cellBox = Box(x0: left, y0: top, x1: left + cw, y1: top + ch)
                    if let clipped = r.intersection(cellBox) { perCell[row * cols + col, default: []].append(clipped) }
                }
            }
        }
        for (cell, pieces) in perCell {
            weights[cell] = rule == .overlap ? 1 : Swift.min(1, unionArea(pieces) / cellArea)
        }
        // Polygon rings.
        for ring in shape.rings {
            let points = ring.points.map { mapping.toInput($0) }
            guard let bounds = Polygon(points: points).bounds else { continue }
            let c0 = Swift.max(0, Int((bounds.x0 / cw).rounded(.down)) - 1)
            let c1 = Swift.min(cols - 1, Int((bounds.x1 / cw).rounded(.down)) + 1)
            let r0 = Swift.max(0, Int((bounds.y0 / ch).rounded(.down)) - 1)
            let r1 = Swift.min(rows - 1, Int((bounds.y1 / ch).rounded(.down)) + 1)
            guard c0 <= c1, r0 <= r1 else { continue }
            for row in r0...r1 {
                for col in c0...c1 {
                    let cellBox = Box(
                        x0: Double(col) * cw, y0: Double(row) * ch, x1: Double(col + 1) * cw, y1: Double(row + 1) * ch)
                    let area = clippedArea(points, to: cellBox)
                    guard area > overlapTolerance * cellArea else { continue }
                    let cell = row * cols + col
                    weights[cell] = rule == .overlap ? 1 : Swift.min(1, weights[cell] + area / cellArea)
                }
            }
        }
    }
}
