import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore
import Testing

@testable import GroundworkAnnotations

/// The import's hot-path helpers give exactly what the general code gave, and the reader
/// pipeline keeps the serial semantics (order of findings and drafts, errors, all or nothing).
@Suite("Import fast paths and the reader pipeline")
struct ImportFastPathTests {
    @Test("the byte-wise JSON string writer matches JSONEncoder for every kind of character")
    func jsonStringMatchesEncoder() throws {
        let samples = [
            "", "plain", "quote \" and backslash \\", "slash / kept", "new\nline\r\ttab", "\u{08}\u{0C}",
            "\u{01}\u{1F}\u{7F}", "é ü 中文 🫁", "mixed \u{00}zero",
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for sample in samples {
            let expected = String(decoding: try encoder.encode([sample]), as: UTF8.self).dropFirst().dropLast()
            #expect(GeometryCheck.jsonString(sample) == String(expected), "\(sample.debugDescription)")
        }
        let object = ["vgmed_modality": "CT", "a\"b": "x\ny", "vgmed_gt_tokens": "[[1,2],[3,4]]", "ü": "中"]
        #expect(GeometryCheck.canonicalJSON(object) == String(decoding: try encoder.encode(object), as: UTF8.self))
        #expect(GeometryCheck.canonicalJSON([String: String]()) == "{}")
        for array in [[], ["a"], samples, ["Left Lung", "Right Lung", "a/b"]] {
            #expect(GeometryCheck.canonicalJSON(array) == String(decoding: try encoder.encode(array), as: UTF8.self))
        }
    }

    @Test("trimming skips Foundation only when there is nothing to trim")
    func trimming() {
        for text in ["yes", " yes", "yes ", "\tno\n", "\u{00A0}yes", "yes\u{2028}", "", " ", "a b", "é", "x\u{0085}"] {
            #expect(trimmedWhitespace(text) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
        }
    }

    @Test("identity keys are the first 8 bytes of SHA-256, big-endian")
    func identityKeys() {
        // SHA-256("abc") = ba7816bf 8f01cfea …
        #expect(IdentityKey.of("abc") == Int64(bitPattern: 0xba78_16bf_8f01_cfea))
        // SHA-256("") = e3b0c442 98fc1c14 …
        #expect(IdentityKey.of("") == Int64(bitPattern: 0xe3b0_c442_98fc_1c14))
        #expect(IdentityKey.question("q", answer: "yes", template: nil) == IdentityKey.of("q\u{1F}yes\u{1F}"))
        #expect(IdentityKey.question("q", answer: "yes", template: "t") == IdentityKey.of("q\u{1F}yes\u{1F}t"))
    }

    /// A reader that reports and emits in a scripted order, and can fail part-way.
    struct ScriptedReader: AnnotationReader {
        var format: AnnotationFormat { .coco }
        var count: Int
        var failAt: Int?

        struct Broken: Error {}

        func read(_ context: ReaderContext, emit: (AnnotationDraft) throws -> Void) throws {
            for i in 0..<count {
                if i == failAt { throw Broken() }
                if i % 3 == 0 { context.report(.warning, .line(i + 1), code: "w\(i)", "before \(i)") }
                try emit(
                    .imageLabel(
                        ImageLabelDraft(image: ImageReference(fileName: "\(i).png"), label: "L\(i)", location: .line(i + 1))))
            }
            context.report(.info, .file, code: "end", "done")
        }
    }

    static func context() -> ReaderContext {
        ReaderContext(file: "f.json", imagesRoot: nil, images: ImageIndex(entries: []), options: ReaderOptions())
    }

    @Test("the pipeline hands over drafts and findings in the reader's order")
    func pipelineOrder() throws {
        for count in [0, 1, 255, 256, 257, 3000] {
            let serial = Self.context()
            var expected: [String] = []
            try ScriptedReader(count: count).read(serial) { draft in
                if case .imageLabel(let label) = draft { expected.append(label.label) }
                serial.report(.info, .file, code: "written", "written")
            }
            let piped = Self.context()
            var got: [String] = []
            try ReaderPipeline.run(ScriptedReader(count: count), context: piped, batchSize: 256, window: 2) { draft in
                if case .imageLabel(let label) = draft { got.append(label.label) }
                piped.report(.info, .file, code: "written", "written")
            }
            #expect(got == expected)
            #expect(piped.diagnostics.map(\.code) == serial.diagnostics.map(\.code))
        }
    }

    @Test("the preparation step runs on the reader's thread; its findings come before its draft, nil drops it")
    func pipelinePrepare() throws {
        let context = Self.context()
        var seen: [String] = []
        let caller = pthread_self()
        try ReaderPipeline.run(
            ScriptedReader(count: 1000), context: context, batchSize: 32, window: 2,
            prepare: { draft, found -> String? in
                guard case .imageLabel(let label) = draft else { return nil }
                let index = Int(label.label.dropFirst())!
                if index % 5 == 0 { found.report(.info, .line(index + 1), code: "prepared\(index)", "prepared") }
                return index % 7 == 0 || pthread_equal(pthread_self(), caller) != 0 ? nil : label.label
            }
        ) { label in
            seen.append(label)
            context.report(.info, .file, code: "written-\(label)", "written")
        }
        let expected = (0..<1000).filter { $0 % 7 != 0 }.map { "L\($0)" }
        #expect(seen == expected)  // nothing was prepared on the calling thread, and nil dropped the draft
        // Reader findings, then the preparer's, then what the writer reported for that draft.
        var order: [String] = []
        for i in 0..<1000 {
            if i % 3 == 0 { order.append("w\(i)") }
            if i % 5 == 0 { order.append("prepared\(i)") }
            if i % 7 != 0 { order.append("written-L\(i)") }
        }
        order.append("end")
        #expect(context.diagnostics.map(\.code) == order)
    }

    @Test("a writer error stops the reader; a reader error comes after what it emitted before")
    func pipelineErrors() throws {
        struct WriterFailed: Error {}
        var written = 0
        #expect(throws: WriterFailed.self) {
            try ReaderPipeline.run(ScriptedReader(count: 100_000), context: Self.context(), batchSize: 16, window: 2) { _ in
                written += 1
                if written == 40 { throw WriterFailed() }
            }
        }
        #expect(written == 40)

        let context = Self.context()
        var seen = 0
        #expect(throws: ScriptedReader.Broken.self) {
            try ReaderPipeline.run(ScriptedReader(count: 1000, failAt: 700), context: context, batchSize: 64) { _ in
                seen += 1
            }
        }
        #expect(seen == 700)
        #expect(context.diagnostics.count == 234)  // warnings before drafts 0, 3, …, 699
    }
}
