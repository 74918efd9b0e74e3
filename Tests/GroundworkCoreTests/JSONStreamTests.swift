import Foundation
import Testing

@testable import GroundworkCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("JSONStreamReader")
struct JSONStreamTests {
    @Test("the pointer follows the walk, and stays on a value after it is read")
    func pointers() throws {
        let reader = JSONStreamReader(
            bytes: utf8(
                #"{"info": {"a": 1}, "images": [{"id": 1}, {"id": 2}, {"id": 3, "tags": ["x"], "a/b~c": 0}], "end": true}"#))
        #expect(reader.pointer == "")
        try reader.beginObject()
        #expect(reader.pointer == "")
        #expect(try reader.nextKey() == "info")
        #expect(reader.pointer == "/info")
        try reader.skipValue()
        #expect(reader.pointer == "/info")
        #expect(try reader.nextKey() == "images")
        try reader.beginArray()
        #expect(reader.pointer == "/images")
        #expect(reader.depth == 2)
        var pointers: [String] = []
        for _ in 0..<3 {
            #expect(try reader.nextElement())
            pointers.append(reader.pointer)
        }
        #expect(pointers == ["/images/0", "/images/1", "/images/2"])
        try reader.beginObject()
        #expect(try reader.nextKey() == "id")
        #expect(reader.pointer == "/images/2/id")
        #expect(try reader.readValue() == 3)
        #expect(reader.pointer == "/images/2/id")
        #expect(try reader.nextKey() == "tags")
        try reader.beginArray()
        #expect(try reader.nextElement())
        #expect(reader.pointer == "/images/2/tags/0")
        #expect(try reader.readValue() == "x")
        #expect(try reader.nextElement() == false)
        #expect(reader.pointer == "/images/2/tags")
        #expect(try reader.nextKey() == "a/b~c")
        #expect(reader.pointer == "/images/2/a~1b~0c")
        #expect(try reader.nextKey() == nil)
        #expect(reader.pointer == "/images/2")
        #expect(try reader.nextElement() == false)
        #expect(reader.pointer == "/images")
        #expect(try reader.nextKey() == "end")
        #expect(try reader.nextKey() == nil)
        #expect(reader.depth == 0)
        try reader.finish()
    }

    @Test("peekKind names each kind without consuming the value")
    func peekKind() throws {
        let reader = JSONStreamReader(bytes: utf8(#"[{}, [], "s", -1, true, false, null]"#))
        try reader.beginArray()
        var kinds: [JSONKind] = []
        var values: [JSONValue] = []
        while try reader.nextElement() {
            kinds.append(try reader.peekKind())
            #expect(try reader.peekKind() == kinds.last)
            values.append(try reader.readValue())
        }
        #expect(kinds == [.object, .array, .string, .number, .bool, .bool, .null])
        #expect(values == [[:], [], "s", -1, true, false, nil])
        try reader.finish()
    }

    @Test("line, column and byte offset track the reader's place")
    func places() throws {
        let text = "{\n  \"é\": \"ü\",\n  \"n\": 12\n}\n"
        let reader = JSONStreamReader(bytes: utf8(text), chunkSize: 3)
        #expect(reader.line == 1 && reader.column == 1 && reader.byteOffset == 0)
        try reader.beginObject()
        #expect(try reader.nextKey() == "é")
        #expect(try reader.readValue() == "ü")
        #expect(reader.line == 2)
        #expect(reader.column == 11)
        #expect(reader.byteOffset == 14)
        #expect(try reader.nextKey() == "n")
        #expect(try reader.readValue() == 12)
        #expect(reader.line == 3 && reader.column == 10)
        try reader.finish()
        #expect(reader.line == 5 && reader.column == 1)
        #expect(reader.byteOffset == text.utf8.count)
    }

    @Test("unread values are skipped, and finish() validates whatever is left")
    func skippingAndFinishing() throws {
        let good = JSONStreamReader(bytes: utf8(#"{"a": [1, {"b": [2]}], "c": "d", "e": [3, 4]}  "#))
        try good.beginObject()
        #expect(try good.nextKey() == "a")
        #expect(try good.nextKey() == "c")
        #expect(try good.nextKey() == "e")
        try good.beginArray()
        #expect(try good.nextElement())
        #expect(try good.readValue() == 3)
        try good.finish()

        let badTail = JSONStreamReader(bytes: utf8(#"{"a": 1, "b": {"c": [1, x]}}"#))
        try badTail.beginObject()
        #expect(try badTail.nextKey() == "a")
        #expect(throws: JSONSyntaxError(line: 1, column: 25, pointer: "/b/c/1", message: "expected a value, found 'x'")) {
            try badTail.finish()
        }

        let trailing = JSONStreamReader(bytes: utf8("[1, 2]\n]"))
        try trailing.beginArray()
        #expect(throws: JSONSyntaxError(line: 2, column: 1, pointer: "", message: "unexpected ']' after the top-level value")) {
            try trailing.finish()
        }

        // finish() on an untouched reader checks the whole document.
        #expect(throws: JSONSyntaxError.self) { try JSONStreamReader(bytes: utf8("[1,]")).finish() }
        try JSONStreamReader(bytes: utf8(" {\"a\": [true]} ")).finish()
    }

    @Test("calls that do not fit the document are errors, never traps, and errors stick")
    func misuse() throws {
        let object = JSONStreamReader(bytes: utf8(#"{"a": [1]}"#))
        try object.beginObject()
        #expect(throws: JSONSyntaxError.self) { try object.readValue() }

        let array = JSONStreamReader(bytes: utf8("[1]"))
        try array.beginArray()
        let inArray = #expect(throws: JSONSyntaxError.self) { try array.nextKey() }
        let inArrayError = try #require(inArray)
        #expect(inArrayError.message == "nextKey() called outside an object")
        // The reader is spent: the same error again, whatever is asked.
        #expect(throws: inArrayError) { try array.nextElement() }

        let wrongKind = JSONStreamReader(bytes: utf8("  [1]"))
        let kindError = #expect(throws: JSONSyntaxError.self) { try wrongKind.beginObject() }
        #expect(kindError == JSONSyntaxError(line: 1, column: 3, pointer: "", message: "expected an object, found an array"))

        let string = JSONStreamReader(bytes: utf8(#"{"a": "x"}"#))
        try string.beginObject()
        _ = try string.nextKey()
        #expect(throws: JSONSyntaxError(line: 1, column: 7, pointer: "/a", message: "expected an array, found a string")) {
            try string.beginArray()
        }

        let twice = JSONStreamReader(bytes: utf8("1"))
        #expect(try twice.readValue() == 1)
        #expect(throws: JSONSyntaxError.self) { try twice.readValue() }

        let outside = JSONStreamReader(bytes: utf8("1"))
        #expect(throws: JSONSyntaxError.self) { try outside.nextElement() }

        let afterRead = JSONStreamReader(bytes: utf8(#"{"a": 1, "b": 2}"#))
        try afterRead.beginObject()
        _ = try afterRead.nextKey()
        _ = try afterRead.readValue()
        let second = #expect(throws: JSONSyntaxError.self) { try afterRead.skipValue() }
        #expect(second?.message.contains("call nextKey() first") == true)
    }

    @Test(
        "tiny chunks (1, 2, 3, 7 bytes) give exactly what 64 KiB chunks give",
        arguments: [
            cocoLikeDocument(annotations: 12),
            utf8(#"{"é😀ü": ["\u00e9\ud83d\ude00\\\"\/\n", "ab\u0041cd", 12345678901234567890, -0.000123e-4, 1E+2]}"#),
            [0xEF, 0xBB, 0xBF] + utf8(#"  ["BOM first", 1]"#),
            utf8("\"" + String(repeating: "ü\\u00fc\\\\x😀", count: 500) + "\""),
            utf8("[" + (0..<300).map { "\(Double($0) * 1.25e-3)" }.joined(separator: ",") + "]"),
            utf8(" [true , false , null , [ ] , { } , \"\" ] \r\n"),
        ])
    func chunkBoundaries(_ document: [UInt8]) throws {
        let reference = try JSONValue.parse(document)
        for chunkSize in [1, 2, 3, 7, 65536] {
            #expect(streamRead(document, chunkSize: chunkSize) == .success(reference), "read, chunk \(chunkSize)")
            #expect(streamWalk(document, chunkSize: chunkSize) == .success(reference), "walk, chunk \(chunkSize)")
            #expect(streamSkip(document, chunkSize: chunkSize) == nil, "skip, chunk \(chunkSize)")
            if case .success(let value) = streamRead(document, chunkSize: chunkSize) {
                #expect(value.canonicalText() == reference.canonicalText())
            }
        }
    }

    @Test("a file is read one annotation at a time, in tiny and in 64 KiB chunks")
    func file() throws {
        let directory = try TemporaryDirectory()
        let document = cocoLikeDocument(annotations: 200)
        let path = try directory.write("instances.json", document)
        let expected = try #require(try JSONValue.parse(document)["annotations"]?.arrayValue)
        for chunkSize in [5, 4096, 65536] {
            let reader = try JSONStreamReader(path: path, chunkSize: chunkSize)
            var annotations: [JSONValue] = []
            try reader.beginObject()
            while let key = try reader.nextKey() {
                guard key == "annotations" else { continue }
                try reader.beginArray()
                while try reader.nextElement() {
                    annotations.append(try reader.readValue())
                    #expect(reader.pointer == "/annotations/\(annotations.count - 1)")
                }
            }
            try reader.finish()
            #expect(annotations == expected)
        }
        let reader = try JSONStreamReader(path: path)
        #expect(try reader.readValue() == (try JSONValue.parse(document)))
    }

    @Test("files that cannot be read are FileIOErrors")
    func unreadableFiles() throws {
        let directory = try TemporaryDirectory()
        let missing = #expect(throws: FileIOError.self) { try JSONStreamReader(path: directory.path + "/missing.json") }
        #expect(missing?.code == ENOENT)
        #expect(missing?.operation == "open")
        let folder = #expect(throws: FileIOError.self) { try JSONStreamReader(path: directory.path) }
        #expect(folder?.code == EISDIR)
        #expect(throws: FileIOError.self) { try JSONLinesReader(path: directory.path + "/missing.jsonl") }
        let empty = try directory.write("empty.json", [])
        #expect(throws: JSONSyntaxError(line: 1, column: 1, pointer: "", message: "unexpected end of input, expected a value")) {
            try JSONStreamReader(path: empty).readValue()
        }
    }

    @Test("memory stays flat: the buffer stays at two chunks however long the file")
    func flatMemory() throws {
        let directory = try TemporaryDirectory()
        let document = cocoLikeDocument(annotations: 16000)  // about 4 MB
        #expect(document.count > 3_000_000)
        let path = try directory.write("big.json", document)
        let reader = try JSONStreamReader(path: path)
        var count = 0
        var largest = 0
        try reader.beginObject()
        while let key = try reader.nextKey() {
            guard key == "annotations" else { continue }
            try reader.beginArray()
            while try reader.nextElement() {
                let annotation = try reader.readValue()
                #expect(annotation["id"]?.intValue == count + 1)
                count += 1
                largest = max(largest, reader.bufferCapacity)
            }
        }
        try reader.finish()
        #expect(count == 16000)
        #expect(largest == 2 * 65536)
        #expect(reader.bufferCapacity == 2 * 65536)

        // Only a single token longer than the free space grows it.
        let long = utf8("[\"" + String(repeating: "x", count: 300_000) + "\"]")
        let longReader = JSONStreamReader(bytes: long, chunkSize: 65536)
        try longReader.skipValue()
        #expect(longReader.bufferCapacity >= 300_000)
    }
}
