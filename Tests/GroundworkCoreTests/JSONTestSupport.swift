import Foundation
import Testing

@testable import GroundworkCore

/// The UTF-8 bytes of a string literal.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The error `JSONValue.parse` reports for a text, or nil if it parses.
func parseError(_ bytes: [UInt8]) -> JSONSyntaxError? {
    do {
        _ = try JSONValue.parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// The error `JSONValue.parse` reports for a text, or nil if it parses.
func parseError(_ text: String) -> JSONSyntaxError? { parseError(utf8(text)) }

/// Reads a whole document through the streaming reader (`readValue()` then `finish()`), with a
/// given chunk size.
func streamRead(_ bytes: [UInt8], chunkSize: Int) -> Result<JSONValue, JSONSyntaxError> {
    let reader = JSONStreamReader(bytes: bytes, chunkSize: chunkSize)
    do {
        let value = try reader.readValue()
        try reader.finish()
        return .success(value)
    } catch {
        return .failure(error)
    }
}

/// Skips a whole document through the streaming reader, with a given chunk size.
func streamSkip(_ bytes: [UInt8], chunkSize: Int) -> JSONSyntaxError? {
    let reader = JSONStreamReader(bytes: bytes, chunkSize: chunkSize)
    do {
        try reader.skipValue()
        try reader.finish()
        return nil
    } catch {
        return error
    }
}

/// Walks a whole document through the streaming API (`beginObject`/`nextKey`/`beginArray`/
/// `nextElement`, reading scalars), and rebuilds it, so the walk can be compared with `readValue()`.
func streamWalk(_ bytes: [UInt8], chunkSize: Int) -> Result<JSONValue, JSONSyntaxError> {
    let reader = JSONStreamReader(bytes: bytes, chunkSize: chunkSize)
    func walk() throws(JSONSyntaxError) -> JSONValue {
        switch try reader.peekKind() {
        case .object:
            try reader.beginObject()
            var members: [(key: String, value: JSONValue)] = []
            while let key = try reader.nextKey() { members.append((key, try walk())) }
            return .object(members)
        case .array:
            try reader.beginArray()
            var elements: [JSONValue] = []
            while try reader.nextElement() { elements.append(try walk()) }
            return .array(elements)
        default:
            return try reader.readValue()
        }
    }
    do {
        let value = try walk()
        try reader.finish()
        return .success(value)
    } catch {
        return .failure(error)
    }
}

/// A temporary directory removed at the end of a test.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "groundwork-json-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a file and returns its path.
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// A COCO-like document: `images`, then `annotations` with ints, floats, strings and small arrays.
func cocoLikeDocument(annotations: Int, seed: UInt64 = 1) -> [UInt8] {
    var random = SplitMix64(seed: seed)
    var text = "{\"info\": {\"description\": \"synthetic — ünïcode ✓\", \"year\": 2026},\n \"images\": ["
    for id in 1...10 {
        if id > 1 { text += ", " }
        text += "{\"id\": \(id), \"file_name\": \"\(id).png\", \"width\": 512, \"height\": 512}"
    }
    text += "],\n \"annotations\": [\n"
    for id in 1...annotations {
        if id > 1 { text += ",\n" }
        let x = Double(Int.random(in: 0...60000, using: &random)) / 100
        let points = (0..<8).map { _ in String(Double(Int.random(in: 0...51200, using: &random)) / 100) }
        text += "  {\"id\": \(id), \"image_id\": \(id % 10 + 1), \"category_id\": \(id % 7), "
        text += "\"bbox\": [\(x), 12.5, 40.25, 3e1], \"area\": \(x * 2.5), \"iscrowd\": 0, "
        text += "\"segmentation\": [[\(points.joined(separator: ", "))]], \"note\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"}"
    }
    text += "\n],\n \"categories\": [{\"id\": 1, \"name\": \"lesion\"}]}\n"
    return utf8(text)
}
