import Crypto
import Foundation
import GRDB
import GroundworkCore
import GroundworkStore

// The release's content hash and part counts: what `release create` seals a release with.
extension ReleaseBuilder {
    /// The release's content hash: SHA-256 over what the release holds — images (pixels by SHA-256,
    /// size, split, metadata, render record), labels, regions (geometry, label, annotator, status)
    /// and questions (with their target regions) — and nothing that depends on the order of work or
    /// the machine: no row ids, creation times or original paths. Each table is hashed as sorted
    /// lines of canonical text, images and labels named by content (SHA-256, name) and regions by
    /// the hash of their own line, so two projects built from the same files in any order, at any
    /// time, anywhere, give the same hash.
    ///
    /// Lines are built as bytes (no intermediate strings), sorted as bytes (UTF-8 order), and fed
    /// to the hasher as they are: the same text as `canonicalText` joined by tabs.
    static func contentHash(_ db: Database, releaseId: Int64, sortBudget: Int = contentHashSortBudget) throws -> String {
        try digest(db, releaseId: releaseId, sortBudget: sortBudget).hash
    }

    /// The content hash (``contentHash(_:releaseId:sortBudget:)``) and the part counts, counted
    /// as the regions and questions are read for the hash (images and patients by SQL).
    ///
    /// Images and labels are hashed first. Regions and questions are then read side by side,
    /// image by image, on the database's thread, which copies each row's columns as SQLite gives
    /// them into batches (`RowBatch`); a second thread turns the batches into canonical lines,
    /// keys, part counts and the sorted, hashed tables (`LineBuilder`), so that formatting and
    /// sorting take the other core while SQLite reads. A question's targets are its regions' keys
    /// (the SHA-256 of their lines, in hex), found among the keys of its image's regions, kept only
    /// while that image is read; a target on another image (which the schema forbids) is hashed
    /// on its own (`RegionKeys`), one not released is `?`.
    static func digest(
        _ db: Database, releaseId: Int64, sortBudget: Int = contentHashSortBudget, sortFolder: String? = nil
    ) throws -> (hash: String, parts: [PartCounts]) {
        var hasher = SHA256()
        hasher.update(data: Array("groundwork release content v2\n".utf8))
        func query(_ sql: String) throws -> QueryStatement { try releaseQuery(db, sql, releaseId: releaseId) }
        // Images and labels: one line a row, built in place in the sorter's memory from columns
        // read straight from SQLite, sorted in bounded memory (`ExternalSorter`): a release of
        // any size hashes in the same few tens of megabytes.
        for (name, sql) in [("images", ReleasedImage.hashedRowsSQL), ("labels", ReleasedLabel.hashedRowsSQL)] {
            var sorter = ExternalSorter(budget: sortBudget, folder: sortFolder)
            let rows = try query(sql)
            while try rows.step() { try sorter.add { appendLine(rows, 0..<rows.columnCount, to: &$0) } }
            try feed(&hasher, name, sorter)
        }
        // Regions and questions name their label by name: the names are kept by id (a
        // taxonomy's worth).
        var labelNames: [Int64: [UInt8]] = [:]
        let labels = try query(ReleasedLabel.namesSQL)
        while try labels.step() {
            var name: [UInt8] = []
            appendCanonicalText(labels, 1, to: &name)
            labelNames[labels.int64(0)] = name
        }
        let parts = try ReleaseRecord.imageCounts(db, releaseId: releaseId)
        let builder = LineBuilder(
            parts: parts, labelNames: labelNames, sortBudget: sortBudget, sortFolder: sortFolder, hasher: hasher)
        let batches = BoundedQueue<[UInt8]>(window: 8)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            builder.run(batches)
            done.signal()
        }
        thread.start()
        var readFailure: (any Error)?
        do {
            try readRegionsAndQuestions(
                db, releaseId: releaseId, labels: Set(labelNames.keys), parts: parts.map(\.split), into: batches)
        } catch {
            readFailure = error
        }
        batches.finish(readFailure)
        done.wait()
        if let readFailure { throw readFailure }
        if let failure = builder.failure { throw failure }
        return (hexDigest(Array(builder.hasher.finalize())), builder.parts)
    }

    /// A query of release `releaseId`'s rows (its parameter `?1`), ready to step.
    private static func releaseQuery(_ db: Database, _ sql: String, releaseId: Int64) throws -> QueryStatement {
        let query = try QueryStatement(db, sql: sql)
        try query.bind(1, releaseId)
        return query
    }

    /// Adds a table's name and line count, then its lines in byte order, to `hasher`.
    static func feed(_ hasher: inout SHA256, _ name: String, _ sorter: consuming ExternalSorter) throws {
        hasher.update(data: Array("\(name) \(sorter.count)\n".utf8))
        // Lines and their newlines go to the hasher in chunks of 64 KiB.
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 16)
        try sorter.forEachSorted { line in
            if chunk.count + line.count >= 1 << 16 {
                hasher.update(data: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
            chunk.append(contentsOf: line.assumingMemoryBound(to: UInt8.self))
            chunk.append(0x0A)
        }
        hasher.update(data: chunk)
    }

    /// Reads the regions and questions of release `releaseId`, image by image, into batches of
    /// raw rows for a ``LineBuilder`` (the database's side of ``digest(_:releaseId:sortBudget:)``).
    /// Rows the hash's joins would drop (a region whose label, a row whose image, the release
    /// lacks) are skipped. Stops early when the builder stops.
    private static func readRegionsAndQuestions(
        _ db: Database, releaseId: Int64, labels: Set<Int64>, parts: [String], into batches: BoundedQueue<[UInt8]>
    ) throws {
        func query(_ sql: String) throws -> QueryStatement { try releaseQuery(db, sql, releaseId: releaseId) }
        let images = try query(ReleasedImage.keyRowsSQL)
        let regions = try query(ReleasedRegion.hashedRowsSQL)
        let questions = try query(ReleasedQuestion.hashedRowsSQL)
        var otherKeys = try RegionKeys(db, releaseId: releaseId)
        var batch = RowBatch()
        var imagePending = try images.step()
        var currentImage: Int64?
        // The regions sent for the current image, whose keys the builder keeps.
        var imageRegions = Set<Int64>()
        /// Moves to image `id` (ids come in increasing order) and sends it when it is new; false
        /// when the release lacks it.
        func seek(_ id: Int64) throws -> Bool {
            if currentImage == id { return true }
            while imagePending, images.int64(0) < id { imagePending = try images.step() }
            guard imagePending, images.int64(0) == id else { return false }
            currentImage = id
            imageRegions.removeAll(keepingCapacity: true)
            let part = images.bytes(1, text: true)
            batch.image(part: parts.firstIndex { $0.utf8.elementsEqual(part) }, sha256: images, column: 2)
            return true
        }
        /// Sends the batch once it is full; false when the builder has stopped.
        func flush(force: Bool = false) -> Bool {
            guard force || batch.bytes.count >= RowBatch.size else { return true }
            defer { batch = RowBatch() }
            return batches.send(batch.bytes)
        }
        var regionPending = try regions.step()
        func takeRegion() throws -> Bool {
            guard try seek(regions.int64(0)), labels.contains(regions.int64(2)) else { return true }
            imageRegions.insert(regions.int64(1))
            batch.region(regions, labelColumn: 2, hashed: 3..<regions.columnCount)
            return flush()
        }
        var targets: [RowBatch.Target] = []
        while try questions.step() {
            let imageId = questions.int64(0)
            while regionPending, regions.int64(0) <= imageId {
                guard try takeRegion() else { return }
                regionPending = try regions.step()
            }
            guard try seek(imageId) else { continue }
            targets.removeAll(keepingCapacity: true)
            for id in regionIDs(UnsafeRawBufferPointer(questions.bytes(1, text: true))) {
                if imageRegions.contains(id) {
                    targets.append(.onImage(id))
                } else {
                    targets.append(.key(try otherKeys.key(regionID: id) ?? [UInt8(ascii: "?")]))
                }
            }
            batch.question(
                questions, labelColumn: 2, groundableColumn: 3, targets: targets, beforeLabel: ReleasedQuestion.beforeLabel)
            guard flush() else { return }
        }
        while regionPending {
            guard try takeRegion() else { return }
            regionPending = try regions.step()
        }
        _ = flush(force: true)
    }

    /// The content-hash key of a region: the SHA-256 of its line, in lowercase hex. A region is
    /// looked up on its own, through one prepared query, when a question targets it from another
    /// image (rare: targets are their question's image's regions).
    struct RegionKeys {
        private let single: QueryStatement

        init(_ db: Database, releaseId: Int64) throws {
            single = try QueryStatement(db, sql: ReleasedRegion.hashedRowSQL)
            try single.bind(1, releaseId)
        }

        /// The key of region `regionID` of the release; nil when the release holds no such region.
        mutating func key(regionID: Int64) throws -> [UInt8]? {
            try single.bind(2, regionID)
            guard try single.step() else { return nil }
            var line: [UInt8] = []
            appendLine(single, 0..<single.columnCount, to: &line)
            _ = try single.step()
            return Self.key(of: line[...])
        }

        /// The key of a line.
        static func key(of line: ArraySlice<UInt8>) -> [UInt8] {
            var key: [UInt8] = []
            key.reserveCapacity(64)
            line.withUnsafeBytes { appendHex(SHA256.hash(data: $0), to: &key) }
            return key
        }
    }

    /// Appends `columns` of the current row, as canonical text joined by tabs.
    static func appendLine(_ row: QueryStatement, _ columns: Range<Int32>, to bytes: inout [UInt8]) {
        for column in columns {
            if column > columns.lowerBound { bytes.append(0x09) }
            appendCanonicalText(row, column, to: &bytes)
        }
    }

    /// Bytes of lines `contentHash` sorts in memory before it sorts on disk.
    static let contentHashSortBudget = 32 << 20

    /// The region ids of `release_vqa.region_ids` (`json_group_array` text: `[1,2,3]`, as UTF-8
    /// bytes), read directly; anything else through JSONDecoder ([] when it is not an array of
    /// integers).
    static func regionIDs(_ utf8: UnsafeRawBufferPointer) -> [Int64] {
        var ids: [Int64] = []
        var bytes = utf8.makeIterator()
        let fallback = { decodedRegionIDs(String(decoding: utf8, as: UTF8.self)) }
        guard bytes.next() == UInt8(ascii: "[") else { return fallback() }
        var current: Int64?
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (product, overflow) = (current ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, carry) = product.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if overflow || carry { return fallback() }
                current = sum
            case UInt8(ascii: ","):
                guard let value = current else { return fallback() }
                ids.append(value)
                current = nil
            case UInt8(ascii: "]"):
                if let value = current {
                    ids.append(value)
                } else if !ids.isEmpty {
                    return fallback()
                }
                return bytes.next() == nil ? ids : fallback()
            default: return fallback()
            }
        }
        return fallback()
    }

    private static func decodedRegionIDs(_ text: String) -> [Int64] {
        (try? JSONDecoder().decode([Int64].self, from: Data(text.utf8))) ?? []
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends the lowercase hex of `data`.
    static func appendHex(_ data: some Sequence<UInt8>, to bytes: inout [UInt8]) {
        for byte in data {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    /// Lowercase hex of bytes.
    static func hexDigest(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        appendHex(bytes, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of `canonicalText(value)`.
    static func appendCanonicalText(_ value: DatabaseValue, to bytes: inout [UInt8]) {
        switch value.storage {
        case .null: bytes.append(contentsOf: "\\N".utf8)
        case .int64(let v): DecimalText.append(v, to: &bytes)
        case .double(let v): DecimalText.appendG17(v, to: &bytes)
        case .string(let s):
            // Only a backslash, a tab or a newline is escaped: text without them is its own form.
            if s.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A }) {
                bytes.append(contentsOf: canonicalText(value).utf8)
            } else {
                bytes.append(contentsOf: s.utf8)
            }
        case .blob(let data): appendHex(data, to: &bytes)
        }
    }

    /// Appends the UTF-8 bytes of `canonicalText` of column `column` of the current row, read
    /// straight from SQLite.
    static func appendCanonicalText(_ row: QueryStatement, _ column: Int32, to bytes: inout [UInt8]) {
        switch row.type(column) {
        case .null: bytes.append(contentsOf: "\\N".utf8)
        case .integer: DecimalText.append(row.int64(column), to: &bytes)
        case .real: DecimalText.appendG17(row.double(column), to: &bytes)
        case .text: appendCanonicalText(text: row.bytes(column, text: true), to: &bytes)
        case .blob: appendHex(row.bytes(column, text: false), to: &bytes)
        }
    }

    /// Appends `canonicalText` of a text value given as the bytes SQLite stores. Plain ASCII (no
    /// NUL, backslash, tab or newline) is its own form and is copied; any other text is read as
    /// GRDB reads text (up to the first NUL, invalid UTF-8 repaired) and escaped, so the bytes are
    /// exactly those ``canonicalText(_:)`` gives for the value GRDB would return.
    static func appendCanonicalText(text: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        if text.allSatisfy({ $0 != 0 && $0 < 0x80 && $0 != 0x5C && $0 != 0x09 && $0 != 0x0A }) {
            bytes.append(contentsOf: text)
        } else {
            let string = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            appendCanonicalText(string.databaseValue, to: &bytes)
        }
    }

    /// A value's text form for hashing: `\N` for NULL, decimal integers, doubles with 17
    /// significant digits, strings with `\`, tab and newline escaped.
    static func canonicalText(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "\\N"
        case .int64(let v): return String(v)
        case .double(let v): return String(format: "%.17g", v)
        case .string(let s):
            return s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n")
        case .blob(let data): return data.map { String(format: "%02x", $0) }.joined()
        }
    }
}
