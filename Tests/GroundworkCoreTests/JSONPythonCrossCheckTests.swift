import Foundation
import Testing

@testable import GroundworkCore

/// Random documents written by Python's `json` module must read back as the values Python meant:
/// each document's canonical text must equal Python's
/// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, after Python
/// writes integral floats below 10^16 as integers (as `canonicalText()` does).
@Suite(
    "JSON against Python",
    .enabled(
        if: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil,
        "set GROUNDWORK_PYTHON to a python3 to run this cross-check (tools/test does)"))
struct JSONPythonCrossCheckTests {
    static let script = #"""
        import json, random, sys

        random.seed(int(sys.argv[1]))
        ALPHABET = ["a", "b", "Z", "0", " ", "~", "/", "\"", "\\", "\n", "\t", "\x00", "\x1f", "\x7f",
                    "é", "ü", "中", "\u2028", "\uffff", "😀", "\U0010ffff"]

        def text():
            return "".join(random.choice(ALPHABET) for _ in range(random.randint(0, 12)))

        def number():
            kind = random.randint(0, 5)
            if kind == 0:
                return random.randint(-2**53, 2**53)
            if kind == 1:
                return random.randint(-1000, 1000)
            if kind == 2:
                return round(random.uniform(-1000, 1000), random.randint(0, 6))
            if kind == 3:
                return random.uniform(-1, 1) * 10.0 ** random.randint(-320, 300)
            if kind == 4:
                return float(random.randint(-10**6, 10**6))
            return random.choice([0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 2.5e-5])

        def value(depth):
            kind = random.randint(0, 7 if depth < 5 else 4)
            if kind == 0: return None
            if kind == 1: return random.random() < 0.5
            if kind in (2, 3): return number()
            if kind == 4: return text()
            if kind in (5, 6):
                return [value(depth + 1) for _ in range(random.randint(0, 5))]
            return {text(): value(depth + 1) for _ in range(random.randint(0, 5))}

        def canonical(v):
            if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
                return int(v)
            if isinstance(v, list):
                return [canonical(x) for x in v]
            if isinstance(v, dict):
                return {k: canonical(x) for k, x in v.items()}
            return v

        out = sys.stdout.buffer
        for i in range(int(sys.argv[2])):
            doc = value(0)
            style = i % 3
            if style == 0:
                written = json.dumps(doc)
            elif style == 1:
                written = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
            else:
                written = json.dumps(doc, ensure_ascii=False, indent=1)
            expected = json.dumps(canonical(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            for chunk in (written, expected):
                data = chunk.encode("utf-8")
                out.write(b"%d\n" % len(data))
                out.write(data)
        """#

    /// Runs the script and returns (written, expected canonical) pairs.
    func pythonDocuments(seed: Int, count: Int) throws -> [(written: [UInt8], expected: String)] {
        let python = try #require(ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.script, String(seed), String(count)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python failed")
        // Length-prefixed records: "<length>\n<bytes>".
        let bytes = [UInt8](data)
        var records: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let newline = try #require(bytes[index...].firstIndex(of: 0x0A))
            let length = try #require(Int(String(decoding: bytes[index..<newline], as: UTF8.self)))
            records.append(Array(bytes[(newline + 1)..<(newline + 1 + length)]))
            index = newline + 1 + length
        }
        try #require(records.count == 2 * count)
        return stride(from: 0, to: records.count, by: 2).map {
            (written: records[$0], expected: String(decoding: records[$0 + 1], as: UTF8.self))
        }
    }

    @Test("Python's json.dumps output reads back to Python's values", arguments: [1, 2, 3])
    func randomDocuments(seed: Int) throws {
        for (written, expected) in try pythonDocuments(seed: seed, count: 400) {
            let value = try JSONValue.parse(written)
            #expect(value.canonicalText() == expected)
            // Python's canonical text is itself JSON that reads back to the same value.
            #expect(try JSONValue.parse(utf8(expected)) == value)
            // The streaming reader agrees, across chunk boundaries.
            #expect(streamRead(written, chunkSize: 3) == .success(value))
            #expect(streamSkip(written, chunkSize: 5) == nil)
        }
    }
}
