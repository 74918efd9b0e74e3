import Foundation
import GroundworkCore

/// A Parquet file of JSON-like rows with an explicit schema: what the Hugging Face export writes as
/// ImageFolder metadata, so that `datasets` reads each column's type from the file instead of
/// inferring it from the first rows (where a column that is null in every early row would become
/// `null`).
///
/// The subset of the format written (Apache Parquet 2.x, readable by pyarrow and every reader):
/// one row group; per leaf column one v1 data page, PLAIN values, RLE levels, no compression; the
/// file metadata in Thrift's compact protocol. Every field is OPTIONAL (null allowed); lists are the standard
/// three-level LIST (`<name>` / `repeated group list` / `item`), so pyarrow reads
/// `list<item: …>`, Arrow's own list type. Deterministic: the same rows give the same bytes.
public struct ParquetFile: Sendable {
    /// A column's type.
    public indirect enum FieldType: Equatable, Sendable {
        case string
        case int64
        case double
        case bool
        case list(FieldType)
        case structure([Field])
    }

    /// A named field of the schema or of a structure.
    public struct Field: Equatable, Sendable {
        public var name: String
        public var type: FieldType

        public init(_ name: String, _ type: FieldType) {
            self.name = name
            self.type = type
        }
    }

    public var fields: [Field]

    public init(fields: [Field]) {
        self.fields = fields
    }

    /// A leaf column: its path and the levels of its entries.
    private struct Leaf {
        var path: [String]
        var type: FieldType
        var maxDefinition: Int
        var maxRepetition: Int
        var definitions: [Int] = []
        var repetitions: [Int] = []
        var values: [JSONValue] = []
    }

    /// The file's bytes for `rows` (objects by field name; a missing member is null).
    /// - Throws: `ExportError.formatCannotHold` when a value does not have its field's type.
    public func encode(_ rows: [JSONValue]) throws -> [UInt8] {
        var leaves: [Leaf] = []
        for field in fields { collectLeaves(field, path: [], definition: 0, repetition: 0, into: &leaves) }
        for (index, row) in rows.enumerated() {
            var leafIndex = 0
            for field in fields {
                try shred(
                    row[field.name], field.type, path: [field.name], definition: 0, repetition: 0, depth: 0,
                    leaves: &leaves, leafIndex: &leafIndex, row: index)
            }
        }
        var out: [UInt8] = Array("PAR1".utf8)
        var chunks: [(leaf: Leaf, offset: Int, size: Int, count: Int)] = []
        for leaf in leaves where !rows.isEmpty {
            let page = pageBody(leaf)
            var header = ThriftWriter()
            header.i32(1, 0)  // DATA_PAGE
            header.i32(2, Int32(page.count))
            header.i32(3, Int32(page.count))
            header.beginStruct(5)
            header.i32(1, Int32(leaf.definitions.count))
            header.i32(2, 0)  // PLAIN
            header.i32(3, 3)  // RLE
            header.i32(4, 3)  // RLE
            header.endStruct()
            header.stop()
            let offset = out.count
            out += header.bytes
            out += page
            chunks.append((leaf, offset, out.count - offset, leaf.definitions.count))
        }
        var meta = ThriftWriter()
        meta.i32(1, 1)
        // Schema: the root, then the fields depth first.
        var elements: [ThriftWriter] = []
        var root = ThriftWriter()
        root.binary(4, "schema")
        root.i32(5, Int32(fields.count))
        root.stop()
        elements.append(root)
        for field in fields { schemaElements(field.name, field.type, into: &elements) }
        meta.list(2, elements)
        meta.i64(3, Int64(rows.count))
        if !rows.isEmpty {
            var group = ThriftWriter()
            var columns: [ThriftWriter] = []
            var total = 0
            for chunk in chunks {
                var column = ThriftWriter()
                column.i64(2, Int64(chunk.offset))
                column.beginStruct(3)
                column.i32(1, physicalType(chunk.leaf.type))
                column.i32List(2, [0, 3])
                column.binaryList(3, chunk.leaf.path)
                column.i32(4, 0)  // UNCOMPRESSED
                column.i64(5, Int64(chunk.count))
                column.i64(6, Int64(chunk.size))
                column.i64(7, Int64(chunk.size))
                column.i64(9, Int64(chunk.offset))
                column.endStruct()
                column.stop()
                columns.append(column)
                total += chunk.size
            }
            group.list(1, columns)
            group.i64(2, Int64(total))
            group.i64(3, Int64(rows.count))
            group.stop()
            meta.list(4, [group])
        } else {
            meta.list(4, [])
        }
        meta.binary(6, "groundwork")
        meta.stop()
        out += meta.bytes
        let length = UInt32(meta.bytes.count)
        out += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        out += Array("PAR1".utf8)
        return out
    }

    // MARK: - Schema

    private func collectLeaves(_ field: Field, path: [String], definition: Int, repetition: Int, into leaves: inout [Leaf]) {
        collect(field.type, path: path + [field.name], definition: definition + 1, repetition: repetition, into: &leaves)
    }

    private func collect(_ type: FieldType, path: [String], definition: Int, repetition: Int, into leaves: inout [Leaf]) {
        switch type {
        case .string, .int64, .double, .bool:
            leaves.append(Leaf(path: path, type: type, maxDefinition: definition, maxRepetition: repetition))
        case .list(let element):
            // <name> (optional) / list (repeated) / item (optional)
            collect(
                element, path: path + ["list", "item"], definition: definition + 2, repetition: repetition + 1, into: &leaves)
        case .structure(let children):
            for child in children {
                collectLeaves(child, path: path, definition: definition, repetition: repetition, into: &leaves)
            }
        }
    }

    private func schemaElements(_ name: String, _ type: FieldType, into elements: inout [ThriftWriter]) {
        var element = ThriftWriter()
        switch type {
        case .string, .int64, .double, .bool:
            element.i32(1, physicalType(type))
            element.i32(3, 1)  // OPTIONAL
            element.binary(4, name)
            if type == .string { element.i32(6, 0) }  // UTF8
            element.stop()
            elements.append(element)
        case .list(let item):
            element.i32(3, 1)
            element.binary(4, name)
            element.i32(5, 1)
            element.i32(6, 3)  // LIST
            element.stop()
            elements.append(element)
            var repeated = ThriftWriter()
            repeated.i32(3, 2)  // REPEATED
            repeated.binary(4, "list")
            repeated.i32(5, 1)
            repeated.stop()
            elements.append(repeated)
            schemaElements("item", item, into: &elements)
        case .structure(let children):
            element.i32(3, 1)
            element.binary(4, name)
            element.i32(5, Int32(children.count))
            element.stop()
            elements.append(element)
            for child in children { schemaElements(child.name, child.type, into: &elements) }
        }
    }

    private func physicalType(_ type: FieldType) -> Int32 {
        switch type {
        case .bool: 0
        case .int64: 2
        case .double: 5
        default: 6  // BYTE_ARRAY
        }
    }

    // MARK: - Shredding (Dremel's record shredding: repetition and definition levels)

    /// The number of leaf columns under a type.
    private func leafCount(_ type: FieldType) -> Int {
        switch type {
        case .string, .int64, .double, .bool: 1
        case .list(let element): leafCount(element)
        case .structure(let children): children.reduce(0) { $0 + leafCount($1.type) }
        }
    }

    /// Records a null (or empty) at every leaf under `type`.
    private func emitMissing(
        _ type: FieldType, definition: Int, repetition: Int, leaves: inout [Leaf], leafIndex: inout Int
    ) {
        for _ in 0..<leafCount(type) {
            leaves[leafIndex].definitions.append(definition)
            leaves[leafIndex].repetitions.append(repetition)
            leafIndex += 1
        }
    }

    private func shred(
        _ value: JSONValue?, _ type: FieldType, path: [String], definition: Int, repetition: Int, depth: Int,
        leaves: inout [Leaf], leafIndex: inout Int, row: Int
    ) throws {
        guard let value, !value.isNull else {
            emitMissing(type, definition: definition, repetition: repetition, leaves: &leaves, leafIndex: &leafIndex)
            return
        }
        let defined = definition + 1
        func mismatch() -> ExportError {
            ExportError.formatCannotHold(
                format: "hf", reason: "row \(row + 1): \(path.joined(separator: ".")) is not a \(Self.describe(type))")
        }
        switch type {
        case .string:
            guard value.stringValue != nil else { throw mismatch() }
        case .int64:
            guard let number = value.doubleValue, number == number.rounded(), abs(number) < 9.0e15 else { throw mismatch() }
        case .double:
            guard value.doubleValue != nil else { throw mismatch() }
        case .bool:
            guard value.boolValue != nil else { throw mismatch() }
        case .list(let element):
            guard let items = value.arrayValue else { throw mismatch() }
            if items.isEmpty {
                emitMissing(type, definition: defined, repetition: repetition, leaves: &leaves, leafIndex: &leafIndex)
                return
            }
            let start = leafIndex
            var end = start
            for (k, item) in items.enumerated() {
                var index = start
                try shred(
                    item, element, path: path, definition: defined + 1, repetition: k == 0 ? repetition : depth + 1,
                    depth: depth + 1, leaves: &leaves, leafIndex: &index, row: row)
                end = index
            }
            leafIndex = end
            return
        case .structure(let children):
            guard value.objectValue != nil else { throw mismatch() }
            for child in children {
                try shred(
                    value[child.name], child.type, path: path + [child.name], definition: defined, repetition: repetition,
                    depth: depth, leaves: &leaves, leafIndex: &leafIndex, row: row)
            }
            return
        }
        leaves[leafIndex].definitions.append(defined)
        leaves[leafIndex].repetitions.append(repetition)
        leaves[leafIndex].values.append(value)
        leafIndex += 1
    }

    private static func describe(_ type: FieldType) -> String {
        switch type {
        case .string: "string"
        case .int64: "whole number"
        case .double: "number"
        case .bool: "boolean"
        case .list: "list"
        case .structure: "object"
        }
    }

    // MARK: - Pages

    private func pageBody(_ leaf: Leaf) -> [UInt8] {
        var out: [UInt8] = []
        if leaf.maxRepetition > 0 { out += Self.levels(leaf.repetitions, max: leaf.maxRepetition) }
        if leaf.maxDefinition > 0 { out += Self.levels(leaf.definitions, max: leaf.maxDefinition) }
        switch leaf.type {
        case .bool:
            var bytes = [UInt8](repeating: 0, count: (leaf.values.count + 7) / 8)
            for (k, value) in leaf.values.enumerated() where value.boolValue == true { bytes[k / 8] |= 1 << UInt8(k % 8) }
            out += bytes
        case .int64:
            for value in leaf.values { out += Self.littleEndian(UInt64(bitPattern: Int64(value.doubleValue ?? 0))) }
        case .double:
            for value in leaf.values { out += Self.littleEndian((value.doubleValue ?? 0).bitPattern) }
        default:
            for value in leaf.values {
                let bytes = Array((value.stringValue ?? "").utf8)
                out += Self.littleEndian32(UInt32(bytes.count))
                out += bytes
            }
        }
        return out
    }

    /// Levels in the RLE/bit-packed hybrid encoding (RLE runs only), with its 4-byte length.
    static func levels(_ levels: [Int], max: Int) -> [UInt8] {
        let width = (Int.bitWidth - max.leadingZeroBitCount + 7) / 8
        var body: [UInt8] = []
        var k = 0
        while k < levels.count {
            var run = 1
            while k + run < levels.count && levels[k + run] == levels[k] { run += 1 }
            body += ThriftWriter.varint(UInt64(run) << 1)
            for byte in 0..<width { body.append(UInt8((levels[k] >> (8 * byte)) & 0xFF)) }
            k += run
        }
        return littleEndian32(UInt32(body.count)) + body
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }
    static func littleEndian32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * UInt32($0))) & 0xFF) } }
}

/// Thrift's compact protocol, the fields Parquet's metadata needs.
struct ThriftWriter {
    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    private static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    private mutating func header(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            bytes += Self.varint(Self.zigzag(Int64(id)))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        header(id, 5)
        bytes += Self.varint(Self.zigzag(Int64(value)))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        header(id, 6)
        bytes += Self.varint(Self.zigzag(value))
    }

    mutating func binary(_ id: Int16, _ text: String) {
        header(id, 8)
        let utf8 = Array(text.utf8)
        bytes += Self.varint(UInt64(utf8.count))
        bytes += utf8
    }

    private mutating func listHeader(_ count: Int, _ type: UInt8) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type)
        } else {
            bytes.append(0xF0 | type)
            bytes += Self.varint(UInt64(count))
        }
    }

    /// A list of structs, each already written (and stopped).
    mutating func list(_ id: Int16, _ structs: [ThriftWriter]) {
        header(id, 9)
        listHeader(structs.count, 12)
        for element in structs { bytes += element.bytes }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        header(id, 9)
        listHeader(values.count, 5)
        for value in values { bytes += Self.varint(Self.zigzag(Int64(value))) }
    }

    mutating func binaryList(_ id: Int16, _ values: [String]) {
        header(id, 9)
        listHeader(values.count, 8)
        for value in values {
            let utf8 = Array(value.utf8)
            bytes += Self.varint(UInt64(utf8.count))
            bytes += utf8
        }
    }

    mutating func beginStruct(_ id: Int16) {
        header(id, 12)
        lastField.append(0)
    }

    mutating func endStruct() {
        bytes.append(0)
        lastField.removeLast()
    }

    /// Ends a top-level struct.
    mutating func stop() { bytes.append(0) }
}
