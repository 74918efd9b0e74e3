import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte strings sorted in bounded memory (what `sort(1)` does): lines are kept in one arena until
/// it holds `budget` bytes, then sorted and written as a run to an unnamed temporary file; the
/// runs are merged as they are read back (at most `maximumRuns` at once: more are merged into one
/// first). Memory is about twice the budget however many lines there are, and a killed process leaves no file behind (the runs have no
/// name: Linux `O_TMPFILE`, elsewhere a file removed as soon as it is opened).
///
/// Order: bytes compared as unsigned values, a prefix before the longer line (what
/// `lexicographicallyPrecedes` gives on `[UInt8]`, and UTF-8 text's code-point order). Equal lines
/// all come out.
public struct ExternalSorter: ~Copyable {
    /// Bytes of lines held in memory before a run is written.
    public let budget: Int
    /// Where the runs go.
    public let folder: String
    /// Lines added.
    public private(set) var count = 0

    private var arena: [UInt8] = []
    /// Start and length of each line in `arena`.
    private var spans: [(start: Int, count: Int)] = []
    private var runs: [Int32] = []

    /// - Parameters:
    ///   - budget: bytes of lines held in memory before a run is written (64 MiB by default).
    ///   - folder: the folder for the runs (the system's temporary folder by default).
    public init(budget: Int = 64 << 20, folder: String? = nil) {
        self.budget = max(1, budget)
        self.folder = folder ?? ExternalSorter.temporaryFolder
        arena.reserveCapacity(min(self.budget, 1 << 20))
    }

    deinit {
        for fd in runs { close(fd) }
    }

    /// The system's temporary folder: `TMPDIR`, else `/tmp`.
    public static var temporaryFolder: String {
        let value = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return value.isEmpty ? "/tmp" : value
    }

    /// Adds a line (any bytes, newlines included).
    public mutating func add(_ line: some Collection<UInt8>) throws(FileIOError) {
        spans.append((arena.count, line.count))
        arena.append(contentsOf: line)
        count += 1
        if arena.count + spans.count * 32 >= budget { try spill() }
    }

    /// Adds a line that `build` appends to the given bytes (nothing else may be changed in them):
    /// the line is written in place, without a copy of its own.
    public mutating func add(building build: (inout [UInt8]) throws -> Void) throws {
        let start = arena.count
        try build(&arena)
        spans.append((start, arena.count - start))
        count += 1
        if arena.count + spans.count * 32 >= budget { try spill() }
    }

    /// Every line in order, then the runs are closed.
    public consuming func forEachSorted(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if runs.isEmpty {
            let order = sortedOrder()
            try arena.withUnsafeBytes { bytes in
                for index in order {
                    let span = spans[index]
                    try body(UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.start + span.count]))
                }
            }
            return
        }
        if !spans.isEmpty { try spill() }
        arena = []
        spans = []
        try merge(runs) { line in try line.withUnsafeBytes { try body($0) } }
    }

    /// Runs merged at once, at most: past that, `spill` merges the runs it has into one, so a
    /// sorter never holds more open files or read buffers than this however small its budget.
    static let maximumRuns = 32

    /// Merges `sources` (rewound first) in order into `body`, a line at a time. Each run is read
    /// through a buffer of the budget's share (4 KiB to 1 MiB).
    private func merge(_ sources: [Int32], into body: ([UInt8]) throws -> Void) throws {
        let share = min(1 << 20, max(4096, budget / max(1, sources.count)))
        var readers: [RunReader] = []
        for fd in sources {
            guard lseek(fd, 0, SEEK_SET) == 0 else {
                throw FileIOError(path: folder, operation: "rewind a sort run in", code: errno)
            }
            readers.append(RunReader(fd: fd, folder: folder, bufferSize: share))
        }
        var heap = RunHeap()
        for index in readers.indices where try readers[index].advance() { heap.push(index, readers) }
        while let index = heap.pop(readers) {
            try body(readers[index].current)
            if try readers[index].advance() { heap.push(index, readers) }
        }
    }

    /// The lines' indices in sorted order (a stable sort: equal lines keep their order). Lines are
    /// compared by their first 8 bytes as one integer first, and in full only when those agree.
    private func sortedOrder() -> [Int] {
        arena.withUnsafeBytes { bytes in
            let base = bytes.baseAddress
            var keyed: [(prefix: UInt64, index: Int)] = []
            keyed.reserveCapacity(spans.count)
            for (index, span) in spans.enumerated() {
                var prefix: UInt64 = 0
                for offset in 0..<8 {
                    prefix <<= 8
                    if offset < span.count { prefix |= UInt64(bytes[span.start + offset]) }
                }
                keyed.append((prefix, index))
            }
            keyed.sort { a, b in
                if a.prefix != b.prefix { return a.prefix < b.prefix }
                let x = spans[a.index]
                let y = spans[b.index]
                let common = min(x.count, y.count)
                let c = common == 0 ? 0 : memcmp(base! + x.start, base! + y.start, common)
                if c != 0 { return c < 0 }
                return x.count != y.count ? x.count < y.count : a.index < b.index
            }
            return keyed.map(\.index)
        }
    }

    /// Writes the lines in memory, sorted, as a run: each line as its length (4 bytes, little
    /// endian) then its bytes.
    private mutating func spill() throws(FileIOError) {
        let fd = try Self.unnamedFile(in: folder)
        runs.append(fd)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        let order = sortedOrder()
        for index in order {
            let span = spans[index]
            var length = UInt32(span.count).littleEndian
            withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
            out.append(contentsOf: arena[span.start..<span.start + span.count])
            if out.count >= 1 << 20 {
                try Self.writeAll(out, to: fd, folder: folder)
                out.removeAll(keepingCapacity: true)
            }
        }
        try Self.writeAll(out, to: fd, folder: folder)
        arena.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        if runs.count >= Self.maximumRuns { try mergeRuns() }
    }

    /// Merges every run into one (stable: the runs are merged in the order they were written).
    private mutating func mergeRuns() throws(FileIOError) {
        let fd = try Self.unnamedFile(in: folder)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        do {
            try merge(runs) { line in
                var length = UInt32(line.count).littleEndian
                withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
                out.append(contentsOf: line)
                if out.count >= 1 << 20 {
                    try Self.writeAll(out, to: fd, folder: folder)
                    out.removeAll(keepingCapacity: true)
                }
            }
            try Self.writeAll(out, to: fd, folder: folder)
        } catch let error as FileIOError {
            close(fd)
            throw error
        } catch {
            close(fd)
            throw FileIOError(path: folder, operation: "merge sort runs in", code: EIO, detail: "\(error)")
        }
        for old in runs { close(old) }
        runs = [fd]
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, folder: String) throws(FileIOError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw FileIOError(path: folder, operation: "write a sort run in", code: errno) }
            done += n
        }
    }

    /// A file without a name in `folder`, open for reading and writing.
    private static func unnamedFile(in folder: String) throws(FileIOError) -> Int32 {
        #if os(Linux)
            let fd = open(folder, 0o20_000_000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 { return fd }
        #endif
        var template = Array((folder + "/groundwork-sort-XXXXXX").utf8CString)
        let named = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard named >= 0 else { throw FileIOError(path: folder, operation: "create a sort run in", code: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return named
    }
}

/// Reads one run back, line by line, through a buffer of `bufferSize` bytes.
private struct RunReader {
    let fd: Int32
    let folder: String
    let bufferSize: Int
    var buffer: [UInt8] = []
    var position = 0
    var current: [UInt8] = []

    init(fd: Int32, folder: String, bufferSize: Int) {
        self.fd = fd
        self.folder = folder
        self.bufferSize = bufferSize
    }

    /// Reads the next line into `current`; false at the end of the run.
    mutating func advance() throws(FileIOError) -> Bool {
        guard try fill(4) else { return false }
        let length = buffer.withUnsafeBytes {
            Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        }
        position += 4
        guard try fill(length) else {
            throw FileIOError(path: folder, operation: "read a sort run in", code: EIO, detail: "the run ends inside a line")
        }
        current.removeAll(keepingCapacity: true)
        current.append(contentsOf: buffer[position..<position + length])
        position += length
        return true
    }

    /// Makes `count` unread bytes available; false if the run ends first (with none left).
    private mutating func fill(_ count: Int) throws(FileIOError) -> Bool {
        if buffer.count - position >= count { return true }
        buffer.removeSubrange(0..<position)
        position = 0
        let want = max(count, bufferSize)
        let have = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: want))
        var filled = have
        while filled < have + want {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, have + want - filled) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw FileIOError(path: folder, operation: "read a sort run in", code: errno) }
            if n == 0 { break }
            filled += n
        }
        buffer.removeSubrange(filled...)
        if buffer.count >= count { return true }
        if buffer.isEmpty { return false }
        throw FileIOError(path: folder, operation: "read a sort run in", code: EIO, detail: "the run ends inside a line")
    }
}

/// A binary min-heap of run indices ordered by their current line (ties by run index, so equal
/// lines come out in the order they were added).
private struct RunHeap {
    private var items: [Int] = []

    private static func less(_ a: Int, _ b: Int, _ readers: [RunReader]) -> Bool {
        let x = readers[a].current
        let y = readers[b].current
        if x == y { return a < b }
        return x.lexicographicallyPrecedes(y)
    }

    mutating func push(_ index: Int, _ readers: [RunReader]) {
        items.append(index)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent], readers) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop(_ readers: [RunReader]) -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count, Self.less(items[left], items[smallest], readers) { smallest = left }
                if right < items.count, Self.less(items[right], items[smallest], readers) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
