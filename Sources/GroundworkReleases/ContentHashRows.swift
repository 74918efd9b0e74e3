import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

/// Rows of a release's regions and questions with their columns as SQLite gives them, packed by
/// the database's thread for the thread that formats them (``LineBuilder``). Each entry is an
/// operation byte, then its fields (integers little-endian), then raw columns: a tag byte
/// (``Tag``) and the value (8 bytes for numbers, a 4-byte length and the bytes for text and
/// blobs, nothing for NULL).
struct RowBatch {
    /// Bytes a batch holds before it is sent.
    static let size = 256 << 10

    var bytes: [UInt8] = []

    enum Operation: UInt8 {
        /// The image the next rows are on: part index (-1: none), SHA-256 (a raw column).
        case image = 1
        /// A region: id, label id, hashed columns.
        case region
        /// A question: label id (or none), groundable (0 or 1), targets, the hashed columns
        /// before its label and those after.
        case question
    }

    enum Tag: UInt8 {
        case null, integer, real, text, blob
    }

    /// A question's target: a region of its image (the builder has its key), or a key found by
    /// the database's thread (a region elsewhere, or `?`).
    enum Target {
        case onImage(Int64)
        case key([UInt8])
    }

    init() { bytes.reserveCapacity(Self.size + (64 << 10)) }

    mutating func image(part: Int?, sha256 row: QueryStatement, column: Int32) {
        bytes.append(Operation.image.rawValue)
        append(Int64(part ?? -1))
        append(row, column)
    }

    mutating func region(_ row: QueryStatement, labelColumn: Int32, hashed: Range<Int32>) {
        bytes.append(Operation.region.rawValue)
        append(row.int64(1))
        append(row.int64(labelColumn))
        append(row, hashed)
    }

    mutating func question(
        _ row: QueryStatement, labelColumn: Int32, groundableColumn: Int32, targets: [Target],
        beforeLabel: Range<Int32>
    ) {
        bytes.append(Operation.question.rawValue)
        if row.type(labelColumn) == .null {
            bytes.append(0)
        } else {
            bytes.append(1)
            append(row.int64(labelColumn))
        }
        append(row.int64(groundableColumn))
        append(Int64(targets.count))
        for target in targets {
            switch target {
            case .onImage(let id):
                bytes.append(0)
                append(id)
            case .key(let key):
                bytes.append(1)
                append(Int64(key.count))
                bytes.append(contentsOf: key)
            }
        }
        append(row, beforeLabel)
        append(row, beforeLabel.upperBound..<row.columnCount)
    }

    private mutating func append(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func append(_ row: QueryStatement, _ columns: Range<Int32>) {
        bytes.append(UInt8(columns.count))
        for column in columns { append(row, column) }
    }

    private mutating func append(_ row: QueryStatement, _ column: Int32) {
        switch row.type(column) {
        case .null: bytes.append(Tag.null.rawValue)
        case .integer:
            bytes.append(Tag.integer.rawValue)
            append(row.int64(column))
        case .real:
            bytes.append(Tag.real.rawValue)
            append(Int64(bitPattern: row.double(column).bitPattern))
        case .text, .blob:
            let text = row.type(column) == .text
            let value = row.bytes(column, text: text)
            bytes.append((text ? Tag.text : Tag.blob).rawValue)
            append(Int64(value.count))
            bytes.append(contentsOf: value)
        }
    }
}

/// Reads a ``RowBatch`` back.
struct RowReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func int64() -> Int64 {
        defer { offset += 8 }
        return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    mutating func slice(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        defer { offset += count }
        return UnsafeBufferPointer(rebasing: bytes.assumingMemoryBound(to: UInt8.self)[offset..<offset + count])
    }

    /// Appends the next column as canonical text (what `ReleaseBuilder.appendCanonicalText` gives
    /// for the same value read from SQLite).
    mutating func appendColumn(to line: inout [UInt8]) {
        switch RowBatch.Tag(rawValue: byte()) {
        case .integer: DecimalText.append(int64(), to: &line)
        case .real: DecimalText.appendG17(Double(bitPattern: UInt64(bitPattern: int64())), to: &line)
        case .text: ReleaseBuilder.appendCanonicalText(text: slice(Int(int64())), to: &line)
        case .blob: ReleaseBuilder.appendHex(slice(Int(int64())), to: &line)
        case .null: line.append(contentsOf: "\\N".utf8)
        case nil: preconditionFailure("a row batch holds an unknown column tag")
        }
    }

    /// Appends the next columns (a count byte, then the columns) joined by tabs.
    mutating func appendColumns(to line: inout [UInt8]) {
        let count = Int(byte())
        for index in 0..<count {
            if index > 0 { line.append(0x09) }
            appendColumn(to: &line)
        }
    }
}

/// The formatting side of `ReleaseBuilder.digest`: turns batches of raw region and question rows
/// into canonical lines, region keys and part counts, then sorts and hashes both tables. It runs
/// on its own thread; its state is read by the caller only after ``run(_:)`` returned (the caller
/// waits for it).
final class LineBuilder: @unchecked Sendable {
    private(set) var parts: [PartCounts]
    private(set) var hasher: SHA256
    private(set) var failure: (any Error)?
    private let labelNames: [Int64: [UInt8]]
    private let sortBudget: Int
    private let sortFolder: String?

    init(parts: [PartCounts], labelNames: [Int64: [UInt8]], sortBudget: Int, sortFolder: String?, hasher: SHA256) {
        self.parts = parts
        self.labelNames = labelNames
        self.sortBudget = sortBudget
        self.sortFolder = sortFolder
        self.hasher = hasher
    }

    /// Takes every batch, then (unless the reader failed) adds the regions' and questions'
    /// tables to the hash. A failure of its own stops the queue and is kept in ``failure``.
    func run(_ batches: BoundedQueue<[UInt8]>) {
        do {
            var regionLines = ExternalSorter(budget: max(1, sortBudget / 2), folder: sortFolder)
            var questionLines = ExternalSorter(budget: max(1, sortBudget / 2), folder: sortFolder)
            var part: Int?
            var sha256: [UInt8] = []
            var imageKeys: [Int64: [UInt8]] = [:]
            var targets: [[UInt8]] = []
            while let batch = batches.receive() {
                try batch.withUnsafeBytes { raw in
                    var rows = RowReader(raw)
                    while !rows.atEnd {
                        switch RowBatch.Operation(rawValue: rows.byte()) {
                        case .image:
                            let index = rows.int64()
                            part = index < 0 ? nil : Int(index)
                            sha256.removeAll(keepingCapacity: true)
                            rows.appendColumn(to: &sha256)
                            imageKeys.removeAll(keepingCapacity: true)
                        case .region:
                            let id = rows.int64()
                            let label = labelNames[rows.int64()] ?? []
                            if let part { parts[part].regions += 1 }
                            try regionLines.add { line in
                                let start = line.count
                                line.append(contentsOf: sha256)
                                line.append(0x09)
                                line.append(contentsOf: label)
                                line.append(0x09)
                                rows.appendColumns(to: &line)
                                imageKeys[id] = ReleaseBuilder.RegionKeys.key(of: line[start...])
                            }
                        case .question:
                            let label = rows.byte() == 0 ? nil : labelNames[rows.int64()]
                            let groundable = rows.int64()
                            targets.removeAll(keepingCapacity: true)
                            for _ in 0..<rows.int64() {
                                if rows.byte() == 0 {
                                    targets.append(imageKeys[rows.int64()] ?? [UInt8(ascii: "?")])
                                } else {
                                    targets.append(Array(rows.slice(Int(rows.int64()))))
                                }
                            }
                            if targets.count > 1 { targets.sort { $0.lexicographicallyPrecedes($1) } }
                            if let part {
                                parts[part].questions += 1
                                parts[part].groundableQuestions += Int(groundable)
                            }
                            try questionLines.add { line in
                                line.append(contentsOf: sha256)
                                line.append(0x09)
                                rows.appendColumns(to: &line)
                                line.append(0x09)
                                line.append(contentsOf: label ?? Array("\\N".utf8))
                                line.append(0x09)
                                rows.appendColumns(to: &line)
                                line.append(0x09)
                                for (index, target) in targets.enumerated() {
                                    if index > 0 { line.append(UInt8(ascii: ",")) }
                                    line.append(contentsOf: target)
                                }
                            }
                        case nil: preconditionFailure("a row batch holds an unknown operation")
                        }
                    }
                }
            }
            guard batches.failure == nil else { return }
            try ReleaseBuilder.feed(&hasher, "regions", regionLines)
            try ReleaseBuilder.feed(&hasher, "questions", questionLines)
        } catch {
            failure = error
            batches.stop()
        }
    }
}
