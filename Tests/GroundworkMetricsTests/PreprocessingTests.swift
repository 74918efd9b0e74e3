import GroundworkGeometry
import GroundworkMetrics
import Testing

/// Worked examples of carrying a target through each preprocessing onto the grid.
@Suite struct PreprocessingTests {
    func cells(_ p: Preprocessing, width: Int, height: Int, _ regions: [Geometry], rule: CellRule = .overlap) throws
        -> MappedTarget
    {
        let mapping = try p.mapping(width: width, height: height)
        return try TargetMapper.map(TargetShape(regions: regions, width: width, height: height), through: mapping, rule: rule)
    }

    func support(_ t: MappedTarget) -> [Int] { t.cells.weights.indices.filter { t.cells.weights[$0] > 0 } }

    @Test func nonSquareImagePaddedToASquare() throws {
        // 200 × 100 on a 200 × 200 canvas, pasted at y = 50; scaled by 336 / 200 = 1.68; 24 × 24 cells of 14 px.
        let p = Preprocessing.padToSquare(inputSize: 336, patchSize: 14)
        let mapping = try p.mapping(width: 200, height: 100)
        #expect(mapping.rows == 24 && mapping.cols == 24 && mapping.offsetY == 84 && mapping.offsetX == 0)
        // The whole image: y 84 ..< 252 → rows 6 ... 17, every column.
        let whole = try cells(p, width: 200, height: 100, [.box(Box(x0: 0, y0: 0, x1: 200, y1: 100))])
        #expect(support(whole) == Array(6 * 24..<18 * 24))
        // [100, 50, 110, 60] → x 168 ..< 184.8, y 168 ..< 184.8 → cells (12, 12), (12, 13), (13, 12), (13, 13).
        let small = try cells(p, width: 200, height: 100, [.box(Box(x0: 100, y0: 50, x1: 110, y1: 60))])
        #expect(support(small) == [12 * 24 + 12, 12 * 24 + 13, 13 * 24 + 12, 13 * 24 + 13])
        // Coverage: cell (12, 12) is covered fully, (12, 13) by 0.8 × 1 (184.8 − 182 = 2.8 of 14 px → 0.2).
        let covered = try cells(p, width: 200, height: 100, [.box(Box(x0: 100, y0: 50, x1: 110, y1: 60))], rule: .coverage)
        #expect(covered.cells.weights[12 * 24 + 12] == 1)
        #expect(abs(covered.cells.weights[12 * 24 + 13] - 0.2) < 1e-9)
        #expect(abs(covered.cells.weights[13 * 24 + 13] - 0.04) < 1e-9)
        // Odd padding floors like LLaVA's (S − H) // 2.
        #expect(try p.mapping(width: 101, height: 100).offsetY == 0)
        #expect(try p.mapping(width: 100, height: 103).offsetX == 1 * 336.0 / 103)
    }

    @Test func centreCropCutsTheTarget() throws {
        // 200 × 100 → shortest side 224: 448 × 224, crop left = (448 − 224) // 2 = 112; the model sees x in [50, 150).
        let p = Preprocessing(kind: .centerCrop, inputWidth: 224, inputHeight: 224, patchSize: 14)
        let mapping = try p.mapping(width: 200, height: 100)
        #expect(mapping.scaleX == 2.24 && mapping.offsetX == -112 && mapping.rows == 16)
        let visible = mapping.visibleImageBox
        #expect(abs(visible.x0 - 50) < 1e-9 && abs(visible.x1 - 150) < 1e-9 && visible.y0 == 0 && abs(visible.y1 - 100) < 1e-9)
        // [40, 60) is cut in half: 1000 of 2000 px lost; it lands on x 0 ..< 22.4 → columns 0 and 1.
        let half = try cells(p, width: 200, height: 100, [.box(Box(x0: 40, y0: 0, x1: 60, y1: 100))])
        #expect(abs(half.lostPixels - 1000) < 1e-6 && half.targetPixels == 2000)
        #expect(Set(support(half).map { $0 % 16 }) == [0, 1])
        // A target entirely outside the crop is an error for the item, not a silent zero.
        #expect(throws: TargetError.self) {
            try cells(p, width: 200, height: 100, [.box(Box(x0: 0, y0: 0, x1: 40, y1: 100))])
        }
        do {
            _ = try cells(p, width: 200, height: 100, [.box(Box(x0: 0, y0: 0, x1: 40, y1: 100))])
        } catch let error as TargetError {
            #expect(error.code == "target_outside_grid" && error.message.contains("centre crop"))
        }
    }

    @Test func smartResizeGrids() throws {
        // Qwen2-VL: factor 28, min 56·56, max 28·28·1280.
        #expect(
            try Preprocessing.smartResize(height: 500, width: 1000, factor: 28, minPixels: 3136, maxPixels: 1_003_520) == (
                504, 1008
            ))
        // Too large: β = √(12e6 / 1003520); ⌊3000 / β / 28⌋ = 30, ⌊4000 / β / 28⌋ = 41.
        #expect(
            try Preprocessing.smartResize(height: 3000, width: 4000, factor: 28, minPixels: 3136, maxPixels: 1_003_520) == (
                840, 1148
            ))
        // Round half to even, as Python's round: 70 / 28 = 2.5 → 2.
        #expect(
            try Preprocessing.smartResize(height: 70, width: 70, factor: 28, minPixels: 3136, maxPixels: 1_003_520) == (56, 56))
        #expect(
            try Preprocessing.smartResize(height: 42, width: 42, factor: 28, minPixels: 784, maxPixels: 1_003_520) == (56, 56))
        let p = Preprocessing(kind: .smartResize, patchSize: 14, mergeSize: 2)
        let mapping = try p.mapping(width: 1000, height: 500)
        #expect(mapping.rows == 18 && mapping.cols == 36 && mapping.cellWidth == 28)
        #expect(throws: PreprocessingError.self) { try p.mapping(width: 201 * 10, height: 10) }
    }

    @Test func boxOnTheGridEdge() throws {
        let p = Preprocessing.resize(inputSize: 336, patchSize: 14)
        // Exactly cell (1, 1): touching the neighbours' edges is not overlap.
        let exact = try cells(p, width: 336, height: 336, [.box(Box(x0: 14, y0: 14, x1: 28, y1: 28))])
        #expect(support(exact) == [25])
        // A box whose edge maps onto a cell boundary through an inexact scale (500 → 336: 250 → 168.00000000000003).
        let scaled = try cells(p, width: 500, height: 500, [.box(Box(x0: 0, y0: 0, x1: 250, y1: 250))])
        #expect(support(scaled).count == 144)
        // The last cell of the grid: [322, 336).
        let corner = try cells(p, width: 336, height: 336, [.box(Box(x0: 330, y0: 330, x1: 336, y1: 336))], rule: .coverage)
        #expect(support(corner) == [575] && abs(corner.cells.weights[575] - 36.0 / 196) < 1e-12)
    }

    @Test func polygonsAndMasksOnTheGrid() throws {
        let p = Preprocessing.resize(inputSize: 28, patchSize: 14)  // 2 × 2 cells of 14 px on a 28 × 28 image
        // A triangle in the top-left cell only: (0,0), (10,0), (0,10).
        let triangle = try cells(
            p, width: 28, height: 28, [.polygon([Polygon(points: [.init(x: 0, y: 0), .init(x: 10, y: 0), .init(x: 0, y: 10)])])],
            rule: .coverage)
        #expect(support(triangle) == [0] && abs(triangle.cells.weights[0] - 50.0 / 196) < 1e-12)
        // A mask: pixels x 12 ..< 16 of row 0 → overlaps cells 0 and 1, 2 px each.
        var mask = BinaryMask(width: 28, height: 28)
        for x in 12..<16 { mask.pixels[x] = 1 }
        let masked = try cells(p, width: 28, height: 28, [.mask(RLE(mask: mask))], rule: .coverage)
        #expect(support(masked) == [0, 1] && abs(masked.cells.weights[1] - 2.0 / 196) < 1e-12)
        // Two overlapping boxes count their union once.
        let union = try cells(
            p, width: 28, height: 28, [.box(Box(x0: 0, y0: 0, x1: 10, y1: 10)), .box(Box(x0: 5, y0: 5, x1: 14, y1: 14))],
            rule: .coverage)
        #expect(abs(union.cells.weights[0] - (100 + 81 - 25) / 196.0) < 1e-12)
    }

    @Test func noneRasterisesAtImageResolution() throws {
        let p = Preprocessing(kind: .none)
        // Pixel-centre rule: [0.4, 0, 1.6, 1] sets pixels 0 and 1 of row 0.
        let t = try cells(p, width: 4, height: 2, [.box(Box(x0: 0.4, y0: 0, x1: 1.6, y1: 1))])
        #expect(support(t) == [0, 1] && t.cells.rows == 2 && t.cells.cols == 4)
        // A sliver between pixel centres covers nothing: an error.
        #expect(throws: TargetError.self) { try cells(p, width: 4, height: 2, [.box(Box(x0: 0.6, y0: 0, x1: 1.4, y1: 1))]) }
    }

    @Test func pointingToleranceWidensTheHitSet() throws {
        let p = Preprocessing.resize(inputSize: 40, patchSize: 10)  // 4 × 4 cells of 10 px, image 40 × 40
        let shape = TargetShape(regions: [.box(Box(x0: 0, y0: 0, x1: 10, y1: 10))], width: 40, height: 40)
        let mapping = try p.mapping(width: 40, height: 40)
        let strict = try TargetMapper.map(shape, through: mapping, rule: .overlap)
        #expect(strict.cells.pointing.filter { $0 }.count == 1)
        // Cell (0, 1) has its centre at (15, 5), 5 px from the box; (1, 1) at (15, 15), √50 ≈ 7.07 px.
        let loose = try TargetMapper.map(shape, through: mapping, rule: .overlap, tolerance: 5)
        #expect(loose.cells.pointing.indices.filter { loose.cells.pointing[$0] } == [0, 1, 4])
        #expect(loose.cells.supportCount == 1)  // the target itself is unchanged
    }

    @Test func badParametersAreReported() {
        #expect(Preprocessing.resize(inputSize: 330, patchSize: 14).problems().count == 1)
        #expect(Preprocessing(kind: .padToSquare, inputWidth: 336, inputHeight: 224, patchSize: 14).problems().count == 1)
        #expect(throws: PreprocessingError.self) {
            try Preprocessing.resize(inputSize: 336, patchSize: 14).mapping(width: 0, height: 5)
        }
    }
}
