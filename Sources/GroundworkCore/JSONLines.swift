#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a JSON Lines file (one JSON text per line) one line at a time; the file is read in
/// 64 KiB chunks, so memory stays flat in its size.
///
/// Each element is a line's 1-based number and either its value or its syntax error (whose line
/// is that line, and whose column counts from the line's start). A bad line does not stop the
/// reading, so a caller can report every bad line in one pass. Lines end with LF or CRLF; blank
/// lines (nothing but spaces, tabs and CR) are skipped; a UTF-8 byte-order mark at the start of
/// the file is skipped. Each line is parsed as by `JSONValue.parse(_:line:)`.
///
/// A failed read mid-file is yielded as an error for the line being read, and ends the sequence.
/// Iterating again reads the file again from the start.
public struct JSONLinesReader: Sequence, Sendable {
    /// One line: its 1-based number and its value or syntax error.
    public typealias Element = (line: Int, result: Result<JSONValue, JSONSyntaxError>)

    private let source: JSONByteSource
    private let chunkSize: Int

    /// Reads the file at `path`.
    /// - Throws: `FileIOError` if it cannot be opened or is not a regular file.
    public init(path: String) throws(FileIOError) {
        try self.init(path: path, chunkSize: JSONScanner.defaultChunkSize)
    }

    /// Reads a text held in memory.
    public init(bytes: [UInt8]) {
        self.init(bytes: bytes, chunkSize: JSONScanner.defaultChunkSize)
    }

    /// Reads a file in chunks of `chunkSize` bytes (tests use tiny chunks to exercise boundaries).
    init(path: String, chunkSize: Int) throws(FileIOError) {
        source = .file(try JSONFileDescriptor(path: path))
        self.chunkSize = Swift.max(1, chunkSize)
    }

    /// Reads a text held in memory in chunks of `chunkSize` bytes.
    init(bytes: [UInt8], chunkSize: Int) {
        source = .memory(bytes)
        self.chunkSize = Swift.max(1, chunkSize)
    }

    /// A new pass over the lines, from the start.
    public func makeIterator() -> Iterator { Iterator(source: source, chunkSize: chunkSize) }

    /// Yields the lines one at a time.
    public struct Iterator: IteratorProtocol {
        private let source: JSONByteSource
        private let chunkSize: Int
        private var buffer: [UInt8]
        /// The unread bytes are `buffer[start..<end]`.
        private var start = 0
        private var end = 0
        private var offset = 0
        private var exhausted = false
        private var checkedByteOrderMark = false
        /// The number of the last line taken from the buffer.
        private var line = 0

        init(source: JSONByteSource, chunkSize: Int) {
            self.source = source
            self.chunkSize = chunkSize
            buffer = []
        }

        /// The next non-blank line's number and value or error; nil at the end of the file.
        public mutating func next() -> Element? {
            while true {
                if !checkedByteOrderMark, end - start < 3, !exhausted {
                    if let failure = readChunk() { return failure }
                    continue
                }
                if !checkedByteOrderMark {
                    checkedByteOrderMark = true
                    if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF {
                        start += 3
                    }
                }
                let newline = buffer.withUnsafeBufferPointer { bytes -> Int? in
                    guard end > start, let base = bytes.baseAddress,
                        let found = memchr(base + start, 0x0A, end - start)
                    else { return nil }
                    return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                }
                let lineEnd: Int
                if let newline {
                    lineEnd = newline
                } else if exhausted {
                    guard start < end else { return nil }
                    lineEnd = end
                } else {
                    if let failure = readChunk() { return failure }
                    continue
                }
                line += 1
                let lineStart = start
                start = Swift.min(lineEnd + 1, end)
                if let element = parse(lineStart..<lineEnd) { return element }
            }
        }

        /// Parses one line; nil if it is blank.
        private func parse(_ range: Range<Int>) -> Element? {
            let number = line
            return buffer.withUnsafeBufferPointer { bytes -> Element? in
                let text = UnsafeBufferPointer(rebasing: bytes[range])
                guard text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return nil }
                return (line: number, result: JSONValue.parseResult(text, line: number))
            }
        }

        /// Reads one more chunk after the unread bytes; on failure, an element reporting it.
        private mutating func readChunk() -> Element? {
            if start > 0 {
                buffer.withUnsafeMutableBufferPointer { bytes in
                    if let base = bytes.baseAddress, end > start { memmove(base, base + start, end - start) }
                }
                end -= start
                start = 0
            }
            if buffer.count - end < chunkSize {
                buffer.append(contentsOf: repeatElement(0, count: Swift.max(buffer.count, end + chunkSize - buffer.count)))
            }
            let result = buffer.withUnsafeMutableBufferPointer { bytes in
                source.read(into: bytes.baseAddress! + end, count: chunkSize, at: offset)
            }
            switch result {
            case .success(let n):
                if n == 0 { exhausted = true }
                end += n
                offset += n
                return nil
            case .failure(let failure):
                exhausted = true
                start = end
                line += 1
                let error = JSONSyntaxError(
                    line: line, column: 1, pointer: "", message: "cannot read \(failure.path): \(failure.reason)")
                return (line: line, result: .failure(error))
            }
        }
    }
}
