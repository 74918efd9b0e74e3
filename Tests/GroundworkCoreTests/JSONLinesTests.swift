import Foundation
import Testing

@testable import GroundworkCore

/// A line's number and its value or error, comparable.
struct LineOutcome: Equatable {
    var line: Int
    var result: Result<JSONValue, JSONSyntaxError>

    init(_ element: JSONLinesReader.Element) {
        line = element.line
        result = element.result
    }

    init(_ line: Int, _ result: Result<JSONValue, JSONSyntaxError>) {
        self.line = line
        self.result = result
    }
}

@Suite("JSONLinesReader")
struct JSONLinesTests {
    static let mixed =
        utf8(
            "{\"id\": 1}\n\n{\"id\": 2, oops}\r\n   \t\n[1, 2]\r\n{\"q\": \"é\\u00e9\"}\n{\"bad\": \"x")
        + [0xFF] + utf8("\"}\n\"last line without a newline\"")

    static let mixedOutcomes = [
        LineOutcome(1, .success(["id": 1])),
        LineOutcome(
            3,
            .failure(
                JSONSyntaxError(
                    line: 3, column: 11, pointer: "", message: "expected a member key in double quotes, found 'o'"))),
        LineOutcome(5, .success([1, 2])),
        LineOutcome(6, .success(["q": "éé"])),
        LineOutcome(
            7,
            .failure(
                JSONSyntaxError(
                    line: 7, column: 11, pointer: "/bad", message: "invalid UTF-8: byte 0xFF does not start a valid sequence"))
        ),
        LineOutcome(8, .success("last line without a newline")),
    ]

    @Test("a bad line is reported and the lines after it are still read, with the right numbers")
    func badLineInTheMiddle() {
        let outcomes = JSONLinesReader(bytes: Self.mixed).map(LineOutcome.init)
        #expect(outcomes == Self.mixedOutcomes)
    }

    @Test("tiny chunks give what 64 KiB chunks give, with a byte-order mark and long lines")
    func chunkBoundaries() throws {
        let long = "{\"text\": \"" + String(repeating: "ü\\u00fc", count: 20000) + "\"}"
        let text = [0xEF, 0xBB, 0xBF] + utf8("{\"a\": 1}\n" + long + "\n\n[\"\\ud83d\\ude00\"]\r\n") + Self.mixed
        let reference = JSONLinesReader(bytes: text).map(LineOutcome.init)
        #expect(reference.count == 3 + Self.mixedOutcomes.count)
        #expect(reference.first == LineOutcome(1, .success(["a": 1])))
        #expect(reference[2] == LineOutcome(4, .success(["😀"])))
        for chunkSize in [1, 2, 3, 7, 100] {
            #expect(JSONLinesReader(bytes: text, chunkSize: chunkSize).map(LineOutcome.init) == reference, "chunk \(chunkSize)")
        }
    }

    @Test("a file is read in chunks, and can be iterated again")
    func file() throws {
        let directory = try TemporaryDirectory()
        var text: [UInt8] = []
        for id in 1...3000 { text += utf8("{\"id\": \(id), \"question\": \"Where is lesion \(id)?\", \"box\": [1, 2, 3, 4]}\n") }
        let path = try directory.write("items.jsonl", text)
        let reader = try JSONLinesReader(path: path)
        var count = 0
        for (line, result) in reader {
            count += 1
            #expect(line == count)
            #expect((try? result.get())?["id"]?.intValue == count)
        }
        #expect(count == 3000)
        #expect(reader.map(LineOutcome.init) == (try JSONLinesReader(path: path, chunkSize: 13)).map(LineOutcome.init))
    }

    @Test("empty and blank inputs yield nothing; parse(line:) places errors on the given line")
    func blanks() throws {
        #expect(Array(JSONLinesReader(bytes: [])).isEmpty)
        #expect(Array(JSONLinesReader(bytes: utf8("\n\r\n  \n\t"))).isEmpty)
        #expect(Array(JSONLinesReader(bytes: [0xEF, 0xBB, 0xBF])).isEmpty)
        let error = #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(utf8("[1, 2,]"), line: 42) }
        #expect(error == JSONSyntaxError(line: 42, column: 7, pointer: "", message: "trailing comma before ']'"))
        // Two values on one line are an error for that line.
        let two = JSONLinesReader(bytes: utf8("{} {}\n")).map(LineOutcome.init)
        #expect(
            two == [
                LineOutcome(
                    1,
                    .failure(
                        JSONSyntaxError(line: 1, column: 4, pointer: "", message: "unexpected '{' after the top-level value")))
            ])
    }
}
