import Foundation
import GroundworkCore
import Testing

@testable import GroundworkImaging

/// The pipeline's steps on hand-worked values (PS3.3 C.11.2.1.2 and C.7.9.2).
@Suite struct RenderStepTests {
    typealias VOI = DICOMRenderer.VOITransform

    @Test func linearWindowFollowsTheStandard() {
        // LINEAR, c = 40, w = 400: below c - 0.5 - (w-1)/2 = -160 is 0, above 239 is 1.
        let voi = VOI.window(center: 40, width: 400, function: "LINEAR")
        #expect(voi.apply(-160) == 0)
        #expect(voi.apply(-159.5) > 0)
        #expect(voi.apply(239) == 1)
        #expect(abs(voi.apply(39.5) - 0.5) < 1e-12)
        // Width 1 is a step at c - 0.5.
        let step = VOI.window(center: 10, width: 1, function: "LINEAR")
        #expect(step.apply(9.5) == 0 && step.apply(9.6) == 1)
    }

    @Test func linearExactAndSigmoid() {
        let exact = VOI.window(center: 0, width: 100, function: "LINEAR_EXACT")
        #expect(exact.apply(-50) == 0)
        #expect(exact.apply(50) == 1)
        #expect(exact.apply(25) == 0.75)
        let sigmoid = VOI.window(center: 0, width: 100, function: "SIGMOID")
        #expect(sigmoid.apply(0) == 0.5)
        #expect(abs(sigmoid.apply(25) - 1 / (1 + exp(-1.0))) < 1e-12)
    }

    @Test func voiLookupTableClampsAndScales() {
        let table = DICOMLookupTable(firstMapped: -2, bits: 8, data: [0, 51, 102, 255])
        let voi = VOI.lut(table)
        #expect(voi.apply(-10) == 0)
        #expect(voi.apply(-1) == 0.2)
        #expect(voi.apply(1) == 1)
        #expect(voi.apply(100) == 1)
    }

    @Test func modalityTransforms() {
        #expect(DICOMRenderer.ModalityTransform.rescale(slope: 2, intercept: -1024).apply(100) == -824)
        let table = DICOMLookupTable(firstMapped: 10, bits: 16, data: [7, 8, 9])
        let lut = DICOMRenderer.ModalityTransform.lut(table)
        #expect(lut.apply(0) == 7 && lut.apply(11) == 8 && lut.apply(99) == 9)
    }

    @Test func windowArguments() {
        #expect(DICOMWindow.parse("lung") == .preset("lung"))
        #expect(DICOMWindow.parse(" Bone ") == .preset("bone"))
        #expect(DICOMWindow.parse("40,400") == .explicit(center: 40, width: 400))
        #expect(DICOMWindow.parse("-600, 1500") == .explicit(center: -600, width: 1500))
        for bad in ["", "lungs", "40", "40,0", "40,abc", "1,2,3", "nan,10", "40,inf"] {
            #expect(DICOMWindow.parse(bad) == nil, "\(bad)")
        }
        #expect(DICOMWindow.preset("mediastinum").parameters.center == 50)
    }

    @Test func segmentedPaletteExpansion() throws {
        // Discrete [0, 100], linear to 200 in 4 steps, then an indirect copy of the first segment.
        let data: [UInt16] = [0, 2, 0, 100, 1, 4, 200, 2, 1, 0, 0]
        var lut: [UInt16] = []
        try DICOMFile.expandSegments(data[...], into: &lut, limit: nil, previous: nil, depth: 0)
        #expect(lut == [0, 100, 125, 150, 175, 200, 0, 100])
        var bad: [UInt16] = []
        #expect(throws: DICOMError.self) {
            try DICOMFile.expandSegments([1, 3, 50][...], into: &bad, limit: nil, previous: nil, depth: 0)
        }
        #expect(throws: DICOMError.self) {
            try DICOMFile.expandSegments([7, 1, 0][...], into: &bad, limit: nil, previous: nil, depth: 0)
        }
    }

    @Test func openingGarbageIsAnErrorNotACrash() {
        for bytes in [[], [UInt8](repeating: 0, count: 131), [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)] {
            #expect(throws: DICOMError.self) { try DICOMFile(bytes: bytes) }
        }
        var noise = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        var state: UInt64 = 1
        for _ in 0..<4096 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            noise.append(UInt8(truncatingIfNeeded: state >> 56))
        }
        #expect(throws: DICOMError.self) { try DICOMFile(bytes: noise).decode() }
    }
}
