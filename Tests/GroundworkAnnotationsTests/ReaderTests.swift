import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkAnnotations

// MARK: - Support shared by the reader tests

/// The test fixtures (`Fixtures/<format>/…`), as absolute paths.
enum Fixtures {
    static let root: String = FileIO.absolute(Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path)

    static func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
}

/// An image of the project, for an index built by hand.
func imageEntry(_ id: Int64, _ path: String, _ width: Int, _ height: Int) -> ImageIndex.Entry {
    ImageIndex.Entry(
        id: id, sha256: String(repeating: "0", count: 48) + String(format: "%016llx", id), originalPath: path, width: width,
        height: height, modality: nil)
}

/// What a reader produced from one file or folder.
struct ReaderRun {
    var file: String
    var drafts: [AnnotationDraft]
    var diagnostics: [Diagnostic]

    var regions: [RegionDraft] {
        drafts.compactMap {
            if case .region(let region) = $0 { return region }
            return nil
        }
    }

    var questions: [VQADraft] {
        drafts.compactMap {
            if case .vqa(let item) = $0 { return item }
            return nil
        }
    }

    var imageLabels: [ImageLabelDraft] {
        drafts.compactMap {
            if case .imageLabel(let label) = $0 { return label }
            return nil
        }
    }

    var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// Each diagnostic as `severity code @ location`, prefixed by `name: ` when it names a file
    /// other than the one read (a file inside a folder input).
    var found: [String] {
        diagnostics.map { diagnostic in
            let place = "\(diagnostic.severity.rawValue) \(diagnostic.code) @ \(diagnostic.location)"
            if diagnostic.file == file { return place }
            return "\((diagnostic.file as NSString).lastPathComponent): \(place)"
        }
    }
}

/// Runs a reader on a path against a hand-built image index.
func runReader(
    _ reader: some AnnotationReader, _ path: String, images: [ImageIndex.Entry] = [], options: ReaderOptions = ReaderOptions()
) throws -> ReaderRun {
    let context = ReaderContext(file: path, imagesRoot: nil, images: ImageIndex(entries: images), options: options)
    var drafts: [AnnotationDraft] = []
    try reader.read(context) { drafts.append($0) }
    return ReaderRun(file: path, drafts: drafts, diagnostics: context.diagnostics)
}

/// Whether a geometry is exactly this box, to 1e-9.
func isBox(_ geometry: Geometry, _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Bool {
    guard case .box(let box) = geometry else { return false }
    return abs(box.x0 - x0) < 1e-9 && abs(box.y0 - y0) < 1e-9 && abs(box.x1 - x1) < 1e-9 && abs(box.y1 - y1) < 1e-9
}

/// Whether a geometry is exactly this one polygon (flat `[x1, y1, …]`), to 1e-9.
func isPolygon(_ geometry: Geometry, _ flat: [Double]) -> Bool {
    guard case .polygon(let rings) = geometry, rings.count == 1, rings[0].flat.count == flat.count else { return false }
    return zip(rings[0].flat, flat).allSatisfy { abs($0 - $1) < 1e-9 }
}

/// A scratch folder, removed by the caller.
func scratchFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-readers-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `reader` on every prefix of `file` (written to a scratch file named `name`): nothing may
/// crash or throw, and every prefix that stops before the last `complete` ends must report an error.
func checkEveryPrefix(of file: String, as name: String, reader: some AnnotationReader, complete: String) throws {
    let bytes = try FileIO.readAll(file)
    let marker = Array(complete.utf8)
    let end = (0...(bytes.count - marker.count)).last { Array(bytes[$0..<($0 + marker.count)]) == marker }.map {
        $0 + marker.count
    }
    let folder = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = (folder as NSString).appendingPathComponent(name)
    for length in 0..<bytes.count {
        try? FileManager.default.removeItem(atPath: path)
        try FileIO.writeAtomically(path, bytes: Array(bytes[0..<length]))
        let run = try runReader(reader, path)
        if length < (end ?? bytes.count) {
            #expect(!run.errors.isEmpty, "prefix of \(length) bytes read without an error")
        }
    }
}

// MARK: - Pascal VOC

@Suite struct VOCReaderTests {
    let images = [
        imageEntry(1, "/data/voc/JPEGImages/000001.jpg", 353, 500),
        imageEntry(2, "/data/voc/JPEGImages/000002.png", 64, 64),
    ]

    @Test func readsAFolderInNameOrderWithInclusiveCorners() throws {
        let folder = Fixtures.path("voc/good")
        let run = try runReader(VOCReader(), folder, images: images)
        #expect(
            run.found == [
                "000002.xml: warning unknown_size @ element annotation/size", "000002.xml: info ignored @ element annotation",
            ])
        let regions = run.regions
        try #require(regions.count == 4)
        #expect(regions.map(\.label) == ["dog", "person", "edge", "nodule"])
        #expect(isBox(regions[0].geometry, 47, 239, 195, 371))
        // The first pixel, 1-based inclusive [1, 1, 1, 1], is the canonical unit box.
        #expect(isBox(regions[1].geometry, 0, 0, 1, 1))
        // xmax = width, ymax = height: the box touches the right and bottom edges.
        #expect(isBox(regions[2].geometry, 299, 399, 353, 500))
        #expect(isBox(regions[3].geometry, 9.5, 19, 30, 40))
        #expect(
            regions[0].image
                == ImageReference(path: "VOC2007/000001.jpg", fileName: "000001.jpg", declaredWidth: 353, declaredHeight: 500))
        #expect(regions[2].location == .xmlElement("annotation/object[3]"))
        #expect(regions[2].externalId == "000001.xml:annotation/object[3]")
        // A declared size of 0 × 0 is not a declared size.
        #expect(regions[3].image == ImageReference(path: "/data/voc/JPEGImages/000002.png", fileName: "000002.png"))
    }

    @Test func readsOneFile() throws {
        let file = Fixtures.path("voc/good/000001.xml")
        let run = try runReader(VOCReader(), file, images: images)
        #expect(run.diagnostics.isEmpty)
        #expect(run.regions.count == 3)
    }

    @Test func reportsEveryProblemOfEveryFile() throws {
        let run = try runReader(VOCReader(), Fixtures.path("voc/bad"))
        #expect(run.drafts.isEmpty)
        #expect(
            run.found == [
                "bad.xml: error not_a_number @ element annotation/size/width",
                "bad.xml: error not_a_number @ element annotation/object[1]/bndbox/ymin",
                "bad.xml: error missing_field @ element annotation/object[1]/bndbox",
                "bad.xml: error missing_field @ element annotation/object[2]",
                "bad.xml: error missing_field @ element annotation/object[3]",
                "bad.xml: error bad_box @ element annotation/object[4]/bndbox",
                "broken.xml: error xml_syntax @ element annotation/object[1]/bndbox",
                "other.xml: error not_voc @ element annotations",
            ])
        let syntax = try #require(run.diagnostics.first { $0.code == "xml_syntax" })
        #expect(syntax.message.contains("closing tag") && syntax.message.contains("line 5"))
        let width = try #require(run.diagnostics.first)
        #expect(width.message.contains("'abc'") && width.message.contains("line 3"))
    }

    @Test func anEmptyFolderAndAMissingPath() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try runReader(VOCReader(), folder).found == ["error no_files @ "])
        #expect(throws: FileIOError.self) { try runReader(VOCReader(), folder + "/nothing.xml") }
    }

    @Test func entitiesAreNeitherExpandedWithoutBoundNorFetched() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n"
        for level in 1..<10 {
            laughs += "<!ENTITY lol\(level) \"\(String(repeating: "&lol\(level - 1);", count: 10))\">\n"
        }
        laughs += "]>\n<annotation><filename>&lol9;</filename></annotation>\n"
        try FileIO.writeAtomically(folder + "/lol.xml", bytes: Array(laughs.utf8))
        let run = try runReader(VOCReader(), folder + "/lol.xml")
        #expect(run.errors.map(\.code) == ["xml_syntax"])
        #expect(run.drafts.isEmpty)
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/hostname">]>
            <annotation><filename>&x;</filename><object><name>a</name>
            <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>
            """
        try FileIO.writeAtomically(folder + "/xxe.xml", bytes: Array(external.utf8))
        let xxe = try runReader(VOCReader(), folder + "/xxe.xml")
        // The external entity is not read: the file names no image. (Foundation's parser also
        // drops the rest of that line's text after the unresolved reference: still an error.)
        #expect(xxe.found.first == "error missing_field @ element annotation")
        #expect(xxe.drafts.isEmpty)
    }

    @Test func neverCrashesOnATruncatedFile() throws {
        try checkEveryPrefix(
            of: Fixtures.path("voc/good/000001.xml"), as: "000001.xml", reader: VOCReader(), complete: "</annotation>")
    }
}

// MARK: - CVAT

@Suite struct CVATReaderTests {
    @Test func readsBoxesPolygonsMasksAndTags() throws {
        let run = try runReader(
            CVATReader(), Fixtures.path("cvat/good.xml"),
            images: [imageEntry(1, "/data/cvat/scans/a.png", 100, 50), imageEntry(2, "/data/cvat/b.png", 64, 64)])
        #expect(run.found == ["warning unsupported_shape @ element annotations/image[1]/polyline[1]"])
        let regions = run.regions
        try #require(regions.count == 4)
        #expect(regions.map(\.label) == ["nodule", "lung", "lesion", "mass"])
        // xbr = width and ybr = height: touching the right and bottom edges, continuous corners.
        #expect(isBox(regions[0].geometry, 10.5, 20, 100, 50))
        #expect(regions[0].image == ImageReference(path: "scans/a.png", declaredWidth: 100, declaredHeight: 50))
        // The task of the export (its id and name) is recorded on the region.
        #expect(regions[0].location == .xmlElement("annotations/image[1]/box[1] (task 1 'chest')"))
        #expect(regions[0].externalId == "0:box[1]")
        #expect(isPolygon(regions[1].geometry, [1, 2, 30, 4, 5, 40]))
        guard case .mask(let rle) = regions[2].geometry else {
            Issue.record("the mask is not a mask")
            return
        }
        // rle "1, 2, 3" over the 3 × 2 rectangle at (10, 5): pixels (11, 5) and (12, 5).
        #expect(rle.width == 100 && rle.height == 50 && rle.area == 2)
        #expect(rle.bounds == Box(x0: 11, y0: 5, x1: 13, y1: 6))
        #expect(rle.mask()[11, 5] && rle.mask()[12, 5] && !rle.mask()[10, 5])
        #expect(isBox(regions[3].geometry, 0, 0, 64, 64))
        #expect(regions[3].location == .xmlElement("annotations/image[2]/box[1] (task 1 'chest'; occluded)"))
        #expect(run.imageLabels.map(\.label) == ["abnormal"])
        #expect(run.imageLabels.first?.location == .xmlElement("annotations/image[1]/tag[1] (task 1 'chest')"))
    }

    @Test func reportsEveryProblem() throws {
        let run = try runReader(CVATReader(), Fixtures.path("cvat/bad.xml"))
        #expect(run.drafts.isEmpty)
        #expect(
            run.found == [
                "warning cvat_version @ element annotations/version",
                "error not_a_number @ element annotations/image[1]/box[1]",
                "error not_a_number @ element annotations/image[1]/box[2]",
                "error missing_field @ element annotations/image[1]/box[3]",
                "error bad_polygon @ element annotations/image[1]/polygon[1]",
                "error too_few_points @ element annotations/image[1]/polygon[2]",
                "error bad_rle @ element annotations/image[1]/mask[1]",
                "error bad_box @ element annotations/image[1]/box[4]",
                "error missing_field @ element annotations/image[2]",
                "error unsupported @ element annotations/track[1]",
                "warning unsupported_shape @ element annotations/image[1]/points[1]",
            ])
        #expect(run.diagnostics[1].message.contains("'ytl'") && run.diagnostics[1].message.contains("line 4"))
    }

    @Test func refusesAnotherRoot() throws {
        let run = try runReader(CVATReader(), Fixtures.path("voc/good/000001.xml"))
        #expect(run.found == ["error not_cvat @ element annotation"])
        #expect(run.drafts.isEmpty)
    }

    @Test func neverCrashesOnATruncatedFile() throws {
        try checkEveryPrefix(of: Fixtures.path("cvat/good.xml"), as: "cvat.xml", reader: CVATReader(), complete: "</annotations>")
    }
}

// MARK: - Every reader

@Suite struct AllReaderTests {
    @Test func eachFormatHasItsReader() {
        for format in AnnotationFormat.allCases {
            #expect(reader(for: format).format == format)
        }
    }

    /// Garbage, empty and binary input is reported, never a crash or a throw.
    @Test func garbageIsReportedNotFatal() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var generator = SplitMix64(seed: 42)
        let inputs: [[UInt8]] = [
            [],
            Array("\u{FEFF}".utf8),
            (0..<2048).map { _ in UInt8.random(in: 0...255, using: &generator) },
            Array("<annotation><object><name>a</name><bndbox><xmin>1e999</xmin></bndbox></object></annotation>".utf8),
            Array("[{\"data\": {\"image\": 5}, \"annotations\": [{\"result\": [{\"type\": 7, \"value\": []}]}]}]".utf8),
            Array("0 nan inf -inf 1e309\n\u{0}\u{0}\n".utf8),
            Array("image,label,x0,y0,x1,y1\n\"a\"b,c\n".utf8),
        ]
        let readers: [(any AnnotationReader, String)] = [
            (VOCReader(), "x.xml"), (CVATReader(), "x.xml"), (LabelStudioReader(), "x.json"), (CSVRegionReader(), "x.csv"),
            (YOLOReader(), "x.txt"),
        ]
        for (k, bytes) in inputs.enumerated() {
            for (reader, name) in readers {
                let path = folder + "/\(k)-\(name)"
                try? FileManager.default.removeItem(atPath: path)
                try FileIO.writeAtomically(path, bytes: bytes)
                let run = try runReader(reader, path, images: [imageEntry(1, "/d/\(k)-x.png", 10, 10)])
                #expect(!run.errors.isEmpty, "\(reader.format) read input \(k) without an error")
            }
        }
    }
}
