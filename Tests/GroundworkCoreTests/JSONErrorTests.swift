import Foundation
import Testing

@testable import GroundworkCore

/// A malformed document and the exact place and message expected for it.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    var bytes: [UInt8]
    var line: Int
    var column: Int
    var pointer: String
    /// A fragment the message must contain.
    var message: String

    init(_ text: String, _ line: Int, _ column: Int, _ pointer: String, _ message: String) {
        self.init(bytes: utf8(text), line, column, pointer, message)
    }

    init(bytes: [UInt8], _ line: Int, _ column: Int, _ pointer: String, _ message: String) {
        self.bytes = bytes
        self.line = line
        self.column = column
        self.pointer = pointer
        self.message = message
    }

    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

let malformedCases: [MalformedCase] = [
    // Structure.
    MalformedCase(#"{"images":[{"id":1},{"id":x"#, 1, 27, "/images/1/id", "expected a value, found 'x'"),
    MalformedCase("", 1, 1, "", "unexpected end of input, expected a value"),
    MalformedCase("  \n ", 2, 2, "", "unexpected end of input"),
    MalformedCase("[1,]", 1, 4, "", "trailing comma before ']'"),
    MalformedCase(#"{"a":1,}"#, 1, 8, "", "trailing comma before '}'"),
    MalformedCase("[1 2]", 1, 4, "", "expected ',' or ']' after an array element, found '2'"),
    MalformedCase(#"{"a":1 "b":2}"#, 1, 8, "", "expected ',' or '}' after an object member"),
    MalformedCase(#"{"a" 1}"#, 1, 6, "/a", "expected ':' after the key, found '1'"),
    MalformedCase("{1:2}", 1, 2, "", "expected a member key in double quotes, found '1'"),
    MalformedCase("{'a':2}", 1, 2, "", "expected a member key in double quotes"),
    MalformedCase("[1] x", 1, 5, "", "unexpected 'x' after the top-level value"),
    MalformedCase("[1]]", 1, 4, "", "after the top-level value"),
    MalformedCase("[,1]", 1, 2, "/0", "expected a value, found ','"),
    MalformedCase("[1,,2]", 1, 4, "/1", "expected a value, found ','"),
    MalformedCase(#"{"a":}"#, 1, 6, "/a", "expected a value, found '}'"),
    MalformedCase("{\"a\":{\"b\":[1,2,{\"c~/d\":x}]}}", 1, 24, "/a/b/2/c~0~1d", "found 'x'"),
    MalformedCase("{\n  \"a\": [\n    1,\n    tru\n  ]\n}", 4, 5, "/a/1", "invalid literal, expected 'true'"),
    MalformedCase("[nul]", 1, 2, "/0", "invalid literal, expected 'null'"),
    MalformedCase("[True]", 1, 2, "/0", "expected a value, found 'T'"),
    // Not JSON, though other parsers accept it.
    MalformedCase("// note\n[]", 1, 1, "", "comments are not allowed"),
    MalformedCase("[1, /* c */ 2]", 1, 5, "/1", "comments are not allowed"),
    MalformedCase("[NaN]", 1, 2, "/0", "NaN is not allowed"),
    MalformedCase("[Infinity]", 1, 2, "/0", "Infinity is not allowed"),
    MalformedCase("[-Infinity]", 1, 2, "/0", "-Infinity is not allowed"),
    MalformedCase("['a']", 1, 2, "/0", "double quotes"),
    MalformedCase("[+1]", 1, 2, "/0", "cannot start with '+'"),
    MalformedCase("[.5]", 1, 2, "/0", "digit before the decimal point"),
    // Numbers.
    MalformedCase("[01]", 1, 2, "/0", "leading zeros"),
    MalformedCase("[-01]", 1, 2, "/0", "leading zeros"),
    MalformedCase("[1.]", 1, 4, "/0", "expected a digit after the decimal point"),
    MalformedCase("[1.e5]", 1, 4, "/0", "expected a digit after the decimal point"),
    MalformedCase("[1e]", 1, 4, "/0", "expected a digit in the exponent"),
    MalformedCase("[1e+]", 1, 5, "/0", "expected a digit in the exponent"),
    MalformedCase("[-]", 1, 3, "/0", "expected a digit after '-'"),
    MalformedCase("[1.2.3]", 1, 5, "/0", "unexpected '.' in a number"),
    MalformedCase("[1-2]", 1, 3, "/0", "unexpected '-' in a number"),
    MalformedCase("[0x10]", 1, 3, "", "expected ',' or ']'"),
    MalformedCase(#"{"big": 1e400}"#, 1, 9, "/big", "beyond the range of a 64-bit float"),
    MalformedCase("-", 1, 2, "", "expected a digit after '-'"),
    // Strings.
    MalformedCase(#"["abc"#, 1, 2, "/0", "unterminated string"),
    MalformedCase(#"["a\"#, 1, 2, "/0", "unterminated string"),
    MalformedCase(#"["\ud83d"#, 1, 2, "/0", "unterminated string"),
    MalformedCase("[\"abc\n\"]", 1, 6, "/0", "unescaped control character U+000A"),
    MalformedCase("[\"a\tb\"]", 1, 4, "/0", "unescaped control character U+0009"),
    MalformedCase(#"["\x"]"#, 1, 3, "/0", #"invalid escape '\x'"#),
    MalformedCase(#"["ab\u12"]"#, 1, 5, "/0", "expected four hexadecimal digits"),
    MalformedCase(#"["\u12G4"]"#, 1, 3, "/0", "expected four hexadecimal digits"),
    MalformedCase(#"["\ud800"]"#, 1, 3, "/0", #"lone surrogate \uD800"#),
    MalformedCase(#"["\ud800\u0041"]"#, 1, 3, "/0", #"lone surrogate \uD800"#),
    MalformedCase(#"["\ud800\ud800"]"#, 1, 3, "/0", #"lone surrogate \uD800"#),
    MalformedCase(#"["é\udc00"]"#, 1, 4, "/0", #"lone surrogate \uDC00"#),
    MalformedCase(#"{"k\q": 1}"#, 1, 4, "", #"invalid escape '\q'"#),
    // Invalid UTF-8, placed by the offending sequence (columns count characters).
    MalformedCase(bytes: utf8("[\"ab") + [0xFF] + utf8("\"]"), 1, 5, "/0", "invalid UTF-8: byte 0xFF"),
    MalformedCase(bytes: utf8("[\"é") + [0xC3, 0x28] + utf8("\"]"), 1, 4, "/0", "invalid UTF-8: byte 0xC3"),
    MalformedCase(bytes: utf8("[\"") + [0xED, 0xA0, 0x80] + utf8("\"]"), 1, 3, "/0", "invalid UTF-8"),
    MalformedCase(bytes: utf8("[\"") + [0xC0, 0x80] + utf8("\"]"), 1, 3, "/0", "invalid UTF-8"),
    MalformedCase(bytes: utf8("[\"") + [0xF4, 0x90, 0x80, 0x80] + utf8("\"]"), 1, 3, "/0", "invalid UTF-8"),
    MalformedCase(bytes: utf8("[\"ab") + [0xE2, 0x82] + utf8("\"]"), 1, 5, "/0", "invalid UTF-8: byte 0xE2"),
    MalformedCase(bytes: utf8("[\"ab") + [0xE2, 0x82], 1, 2, "/0", "unterminated string"),
    MalformedCase(bytes: utf8("{\"ü\": 1, \"x") + [0x80] + utf8("\": 2}"), 1, 12, "", "invalid UTF-8: byte 0x80"),
    MalformedCase(bytes: utf8("[é]"), 1, 2, "/0", "expected a value, found 'é' (U+00E9)"),
    MalformedCase(bytes: [0x5B, 0x00, 0x5D], 1, 2, "/0", "found byte 0x00"),
    // Places after multi-byte characters and on later lines.
    MalformedCase("{\"ключ\": \"значение\",\n \"b\": [1, 2,, 3]}", 2, 13, "/b/2", "expected a value, found ','"),
    MalformedCase("{\"ключ\": \"значение\", \"b\": [1, 2,, 3]}", 1, 33, "/b/2", "expected a value, found ','"),
    MalformedCase("[\"😀😀\", x]", 1, 8, "/1", "found 'x'"),
    MalformedCase("{\"a\": 1,\r\n\"a\": 2}", 2, 1, "/a", #"duplicate key "a""#),
]

@Suite("JSON errors")
struct JSONErrorTests {
    @Test("each class of malformed input reports its exact line, column and pointer", arguments: malformedCases)
    func malformed(_ testCase: MalformedCase) throws {
        let error = try #require(parseError(testCase.bytes), "parsed")
        #expect(error.line == testCase.line)
        #expect(error.column == testCase.column)
        #expect(error.pointer == testCase.pointer)
        #expect(error.message.contains(testCase.message), "\(error.message)")
        // The streaming reader, at any chunk size, says exactly the same.
        for chunkSize in [1, 2, 3, 7, 65536] {
            #expect(streamRead(testCase.bytes, chunkSize: chunkSize) == .failure(error), "chunk \(chunkSize)")
            if !error.message.contains("beyond the range") {
                #expect(streamSkip(testCase.bytes, chunkSize: chunkSize) == error, "skip, chunk \(chunkSize)")
            }
        }
    }

    @Test("every prefix of a document is an error, never a crash, at any chunk size")
    func truncation() throws {
        let document = utf8(
            "{\"images\": [{\"id\": 1, \"file\": \"a\\u00e9\\ud83d\\ude00é😀.png\", \"size\": [-1.5e-3, 0, true, false, null]}],\n"
                + " \"k~/\": {\"nested\": [[], {}, \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]}}")
        _ = try JSONValue.parse(document)
        for length in 0..<document.count {
            let prefix = Array(document[..<length])
            let error = try #require(parseError(prefix), "prefix \(length) parsed")
            #expect(error.line >= 1 && error.column >= 1)
            for chunkSize in [1, 3, 65536] {
                #expect(streamRead(prefix, chunkSize: chunkSize) == .failure(error), "prefix \(length), chunk \(chunkSize)")
                #expect(streamSkip(prefix, chunkSize: chunkSize) == error, "prefix \(length), chunk \(chunkSize)")
                guard case .failure = streamWalk(prefix, chunkSize: chunkSize) else {
                    Issue.record("walk of prefix \(length) succeeded")
                    continue
                }
            }
        }
    }

    @Test("duplicate keys are errors, in small and large objects, on every reading path")
    func duplicateKeys() throws {
        let small = utf8(#"{"a": 1, "b": {"a": 2}, "a": 3}"#)
        let error = try #require(parseError(small))
        #expect(error == JSONSyntaxError(line: 1, column: 25, pointer: "/a", message: #"duplicate key "a""#))
        #expect(streamSkip(small, chunkSize: 2) == error)
        #expect(streamWalk(small, chunkSize: 2) == .failure(error))

        let keys = (0..<40).map { "\"key\($0)\": \($0)" }.joined(separator: ", ")
        let large = utf8("{\"x\": [{\(keys), \"key17\": 0}]}")
        let largeError = try #require(parseError(large))
        #expect(largeError.pointer == "/x/0/key17")
        #expect(largeError.message == #"duplicate key "key17""#)
        #expect(streamSkip(large, chunkSize: 5) == largeError)
        #expect(streamWalk(large, chunkSize: 5) == .failure(largeError))
        // Equal keys written differently are still the same key.
        #expect(parseError(#"{"é": 1, "\u00e9": 2}"#)?.message == #"duplicate key "é""#)
        // The same key in sibling objects is fine.
        #expect(parseError(#"[{"a": 1}, {"a": 2}]"#) == nil)
    }

    @Test("nesting is limited to 512 levels, as an error on every path")
    func depthLimit() throws {
        let deepest = utf8(String(repeating: "[", count: 512) + String(repeating: "]", count: 512))
        #expect(parseError(deepest) == nil)
        #expect(streamSkip(deepest, chunkSize: 65536) == nil)

        let tooDeep = utf8(String(repeating: "[", count: 513) + String(repeating: "]", count: 513))
        let error = try #require(parseError(tooDeep))
        #expect(error.column == 513)
        #expect(error.pointer == String(repeating: "/0", count: 512))
        #expect(error.message.contains("nesting deeper than 512"))
        #expect(streamSkip(tooDeep, chunkSize: 4) == error)
        #expect(streamRead(tooDeep, chunkSize: 4) == .failure(error))

        let objects = utf8(String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600))
        let objectError = try #require(parseError(objects))
        #expect(objectError.pointer == String(repeating: "/a", count: 512))
        // Far deeper input still fails cleanly rather than exhausting the stack.
        #expect(parseError(String(repeating: "[", count: 100_000))?.message.contains("nesting") == true)
    }

    @Test("an error becomes a located diagnostic")
    func diagnostic() throws {
        let error = try #require(parseError("{\n \"a\": [1, x]}"))
        let diagnostic = error.diagnostic(file: "instances.json")
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.code == "json_syntax")
        #expect(diagnostic.file == "instances.json")
        #expect(diagnostic.location == .jsonPointer("/a/1"))
        #expect(diagnostic.message == "expected a value, found 'x' (line 2:11)")
        #expect(diagnostic.description == "instances.json: at /a/1: error: expected a value, found 'x' (line 2:11)")
        #expect(error.description == "2:11 (at /a/1): expected a value, found 'x'")
    }

    @Test("mutated documents never crash and every reading path agrees, at every chunk size")
    func mutationFuzz() throws {
        let document = cocoLikeDocument(annotations: 4)
        let alphabet = utf8("{}[],:\"\\ -+.eE0123456789tfnulx") + [0x00, 0x0A, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
        var random = SplitMix64(seed: 2026)
        for _ in 0..<300 {
            var bytes = document
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                }
            }
            let reference: Result<JSONValue, JSONSyntaxError>
            do { reference = .success(try JSONValue.parse(bytes)) } catch { reference = .failure(error) }
            for chunkSize in [1, 7, 65536] {
                #expect(streamRead(bytes, chunkSize: chunkSize) == reference)
                #expect(streamWalk(bytes, chunkSize: chunkSize) == reference)
            }
        }
    }
}
