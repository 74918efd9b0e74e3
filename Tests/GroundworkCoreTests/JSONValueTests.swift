import Foundation
import Testing

@testable import GroundworkCore

@Suite("JSONValue")
struct JSONValueTests {
    @Test("every kind of value parses, with its accessors")
    func everyKind() throws {
        let value = try JSONValue.parse(
            utf8(#" { "n": null, "t": true, "f": false, "i": -12, "d": 0.5, "e": 1E3, "s": "x", "a": [1, [2]], "o": {} } "#))
        #expect(value["n"]?.isNull == true)
        #expect(value["t"]?.boolValue == true)
        #expect(value["f"]?.boolValue == false)
        #expect(value["i"]?.intValue == -12)
        #expect(value["i"]?.doubleValue == -12)
        #expect(value["d"]?.doubleValue == 0.5)
        #expect(value["d"]?.intValue == nil)
        #expect(value["e"]?.intValue == 1000)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["a"]?[1]?[0]?.intValue == 2)
        #expect(value["a"]?.arrayValue?.count == 2)
        #expect(value["o"]?.objectValue?.isEmpty == true)
        #expect(value.objectValue?.map(\.key) == ["n", "t", "f", "i", "d", "e", "s", "a", "o"])
        #expect(value["missing"] == nil)
        #expect(value[0] == nil)
        #expect(value["a"]?[2] == nil)
        #expect(value["a"]?[-1] == nil)
        #expect(value["s"]?["x"] == nil)
        #expect(value["s"]?.kind == .string)
        #expect(value["n"]?.stringValue == nil)
        #expect(value["t"]?.isNull == false)
        #expect(try JSONValue.parse(utf8("42")) == .number(42))
        #expect(try JSONValue.parse(utf8("\"top\"")) == .string("top"))
        #expect(try JSONValue.parse(utf8("[]")) == .array([]))
    }

    @Test("string escapes, UTF-8 and surrogate pairs decode")
    func strings() throws {
        let value = try JSONValue.parse(utf8(#"["\"\\\/\b\f\n\r\t", "\u00e9\u4E2D\ud83d\ude00", "é中😀", "", "a\u0000b"]"#))
        #expect(value[0]?.stringValue == "\"\\/\u{8}\u{c}\n\r\t")
        #expect(value[1]?.stringValue == "é中😀")
        #expect(value[2]?.stringValue == "é中😀")
        #expect(value[3]?.stringValue == "")
        #expect(value[4]?.stringValue == "a\u{0}b")
        // Keys decode the same way.
        #expect(try JSONValue.parse(utf8(#"{"\u0041\n":1}"#))["A\n"]?.intValue == 1)
        // A long string crosses every fast-path boundary.
        let long = String(repeating: "abcdefghé", count: 2000)
        #expect(try JSONValue.parse(utf8("\"\(long)\"")).stringValue == long)
    }

    @Test("numbers round like Double(String), including hard cases and random literals")
    func numbers() throws {
        let cases = [
            "0", "-0", "1", "-1", "0.1", "0.2", "0.3", "1e23", "2.2250738585072011e-308", "2.2250738585072014e-308",
            "4.9e-324", "1e-400", "1.7976931348623157e308", "9007199254740993", "9007199254740992",
            "123456789012345678901234567890", "0.000000000000000000000000000001", "8.98846567431158e307",
            "1.00000000000000011102230246251565404236316680908203125", "3.14159265358979323846264338327950288",
            "1E+2", "1e-2", "12.5E-1", "100000000000000000000000", "0.5e22", "123456.789e-22", "5e-22",
        ]
        for text in cases {
            let parsed = try JSONValue.parse(utf8(text)).doubleValue
            #expect(parsed?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
        var random = SplitMix64(seed: 42)
        for _ in 0..<20000 {
            var text = Bool.random(using: &random) ? "-" : ""
            let integerDigits = Int.random(in: 1...20, using: &random)
            text += String(Int.random(in: 1...9, using: &random))
            for _ in 1..<integerDigits { text += String(Int.random(in: 0...9, using: &random)) }
            if Bool.random(using: &random) {
                text += "."
                for _ in 0..<Int.random(in: 1...20, using: &random) { text += String(Int.random(in: 0...9, using: &random)) }
            }
            if Bool.random(using: &random) { text += "e\(Int.random(in: -40...40, using: &random))" }
            let expected = try #require(Double(text))
            #expect(try JSONValue.parse(utf8(text)).doubleValue?.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    @Test("intValue only for integral numbers that fit")
    func integers() throws {
        #expect(JSONValue.number(3).intValue == 3)
        #expect(JSONValue.number(-0.0).intValue == 0)
        #expect(JSONValue.number(3.5).intValue == nil)
        #expect(JSONValue.number(1e300).intValue == nil)
        #expect(JSONValue.number(9.3e18).intValue == nil)
        #expect(JSONValue.number(-9.2e18).intValue == -9_200_000_000_000_000_000)
        #expect(JSONValue.string("3").intValue == nil)
        #expect(try JSONValue.parse(utf8("1.0")).intValue == 1)
        #expect(try JSONValue.parse(utf8("25e-1")).intValue == nil)
    }

    @Test("equality treats objects as unordered and compares numbers as doubles")
    func equality() throws {
        let a = try JSONValue.parse(utf8(#"{"a": 1, "b": [true, null], "c": {"x": "y"}}"#))
        let b = try JSONValue.parse(utf8(#"{"c": {"x": "y"}, "b": [true, null], "a": 1.0}"#))
        #expect(a == b)
        #expect(a != (try JSONValue.parse(utf8(#"{"a": 1, "b": [null, true], "c": {"x": "y"}}"#))))
        #expect(a != (try JSONValue.parse(utf8(#"{"a": 1, "b": [true, null]}"#))))
        #expect(a != (try JSONValue.parse(utf8(#"{"a": 1, "b": [true, null], "d": {"x": "y"}}"#))))
        #expect(JSONValue.number(0) == JSONValue.number(-0.0))
        #expect(JSONValue.string("1") != JSONValue.number(1))
        #expect(JSONValue.null != JSONValue.bool(false))
        // Duplicate keys (only constructible by hand) never match a different object.
        let duplicated: JSONValue = .object([("a", 1), ("a", 2)])
        let other: JSONValue = .object([("a", 1), ("b", 2)])
        #expect(duplicated != other)
        #expect(other != duplicated)
        // Big objects (the hashed path) too.
        let keys = (0..<40).map { "k\($0)" }
        let forward = JSONValue.object(keys.map { (key: $0, value: JSONValue.string($0)) })
        let backward = JSONValue.object(keys.reversed().map { (key: $0, value: JSONValue.string($0)) })
        let changed = JSONValue.object(keys.reversed().map { (key: $0, value: JSONValue.string($0 == "k7" ? "x" : $0)) })
        #expect(forward == backward)
        #expect(forward != changed)
    }

    @Test("literals build values")
    func literals() {
        let value: JSONValue = ["id": 7, "score": 0.25, "name": "a", "ok": true, "none": nil, "list": [1, "two"]]
        #expect(value["id"]?.intValue == 7)
        #expect(value["score"]?.doubleValue == 0.25)
        #expect(value["list"]?[1]?.stringValue == "two")
        #expect(value["none"]?.isNull == true)
        #expect(value.objectValue?.first?.key == "id")
    }

    @Test("canonical text: sorted keys, compact, integral numbers as integers, minimal escapes")
    func canonicalText() throws {
        let value = try JSONValue.parse(
            utf8(
                #"{"b": [1.0, -0.0, 2.5, 1e16, 1e-7, 123456789012345.0], "a": "q\"\\\n\u0001\u007f é😀", "é": null, "Z": {"y": false, "x": true}}"#
            ))
        #expect(
            value.canonicalText()
                == #"{"Z":{"x":true,"y":false},"a":"q\"\\\n\u0001\#u{7f} é😀","b":[1,0,2.5,1e+16,1e-07,123456789012345],"é":null}"#
        )
        #expect(value.description == value.canonicalText())
        #expect(JSONValue.number(.nan).canonicalText() == "null")
        #expect(JSONValue.number(-.infinity).canonicalText() == "null")
        #expect(JSONValue.array([]).canonicalText() == "[]")
        #expect(JSONValue.object([]).canonicalText() == "{}")
    }

    @Test("canonical text parses back to the same value")
    func canonicalRoundTrip() throws {
        let document = cocoLikeDocument(annotations: 50)
        let value = try JSONValue.parse(document)
        let text = value.canonicalText()
        let again = try JSONValue.parse(utf8(text))
        #expect(again == value)
        #expect(again.canonicalText() == text)
        // Every number survives the text exactly.
        var random = SplitMix64(seed: 9)
        for _ in 0..<2000 {
            let number = Double(bitPattern: random.next())
            guard number.isFinite else { continue }
            let back = try JSONValue.parse(utf8(JSONValue.number(number).canonicalText()))
            #expect(back.doubleValue == number)
        }
    }

    @Test("parse takes any collection of bytes, a byte-order mark and surrounding whitespace")
    func inputs() throws {
        let expected: JSONValue = ["a": [1, 2]]
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + utf8(#"{"a":[1,2]}"#)) == expected)
        #expect(try JSONValue.parse(utf8(" \t\r\n{\"a\" : [ 1 , 2 ] }\n\n")) == expected)
        #expect(try JSONValue.parse(Data(#"{"a":[1,2]}"#.utf8)) == expected)
        #expect(try JSONValue.parse(#"{"a":[1,2]}"#.utf8) == expected)
        #expect(try JSONValue.parse(utf8(#"xx{"a":[1,2]}xx"#).dropFirst(2).dropLast(2)) == expected)
        #expect(try JSONValue.parse(AnyCollection(utf8(#"{"a":[1,2]}"#))) == expected)
        // A byte-order mark anywhere else is an error.
        #expect(parseError(utf8(" ") + [0xEF, 0xBB, 0xBF] + utf8("1")) != nil)
    }
}
