import Foundation
import Testing

@testable import GroundworkCore

@Suite("Decoding whole JSON documents with located errors")
struct JSONDocumentTests {
    struct Manifest: Decodable, Equatable {
        struct Entry: Decodable, Equatable {
            var path: String
            var sizeBytes: Int
        }
        var rootHash: String
        var files: [Entry]
    }

    func failure(_ text: String) -> Diagnostic? {
        do {
            _ = try JSONDocument.decode(
                Manifest.self, from: Array(text.utf8), file: "m.json", summary: "not a manifest", snakeCaseKeys: true)
            return nil
        } catch {
            #expect(error.summary == "not a manifest")
            #expect(error.diagnostics.count == 1)
            return error.diagnostics.first
        }
    }

    @Test("a valid document decodes, with snake_case members")
    func decodes() throws {
        let manifest = try JSONDocument.decode(
            Manifest.self, from: Array(#"{"root_hash": "ab", "files": [{"path": "a", "size_bytes": 3}]}"#.utf8), file: "m.json",
            summary: "x", snakeCaseKeys: true)
        #expect(manifest == Manifest(rootHash: "ab", files: [.init(path: "a", sizeBytes: 3)]))
    }

    @Test("syntax errors give the line, column and pointer; shape errors the pointer, as the file spells it")
    func locations() {
        let syntax = failure("{\"root_hash\": \"ab\",\n \"files\": [{\"path\": \"a\" \"size_bytes\": 3}]}")
        #expect(syntax?.location == .jsonPointer("/files/0"))
        #expect(syntax?.message.hasSuffix("(line 2:25)") == true, "\(syntax?.message ?? "")")
        #expect(failure(#"{"root_hash": 7, "files": []}"#)?.location == .jsonPointer("/root_hash"))
        let missing = failure(#"{"root_hash": "ab", "files": [{"path": "a", "size_bytes": 1}, {"path": "b"}]}"#)
        #expect(missing?.location == .jsonPointer("/files/1/size_bytes"))
        #expect(missing?.message == "missing member 'size_bytes'")
        #expect(failure(#"{"root_hash": "ab", "files": {}}"#)?.location == .jsonPointer("/files"))
        #expect(failure("[]")?.location == .jsonPointer(""))
    }
}
