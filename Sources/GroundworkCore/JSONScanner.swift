#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One open array or object, for pointers, duplicate keys and the streaming API's bookkeeping.
struct JSONFrame {
    var isArray = false
    /// Members or elements begun so far.
    var count = 0
    /// Whether the pointer names the current member (false before the first and after a comma).
    var hasMember = false
    /// Streaming API: the current member's value has not been read yet.
    var pending = false
    /// The current member's key (objects).
    var key = ""
    /// The keys seen so far (objects read through the streaming API or skipped).
    var keys = JSONKeySet()
}

/// The keys of one object: a short list, then a hash set once the object grows.
struct JSONKeySet {
    private var list: [String] = []
    private var set: Set<String> = []

    /// Adds a key; false if it was already there.
    mutating func insert(_ key: String) -> Bool {
        if set.isEmpty {
            if list.contains(key) { return false }
            list.append(key)
            if list.count > 16 {
                set.formUnion(list)
                list.removeAll(keepingCapacity: true)
            }
            return true
        }
        return set.insert(key).inserted
    }

    mutating func removeAll() {
        if !list.isEmpty { list.removeAll(keepingCapacity: true) }
        if !set.isEmpty { set.removeAll(keepingCapacity: true) }
    }
}

/// A growable stack in manually managed memory: elements move out of it without copies, and
/// access needs neither uniqueness checks nor bounds checks (callers keep indices below `count`).
struct JSONStack<Element>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity = 0

    init() {
        // A non-null placeholder; nothing is allocated until the first push.
        base = UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }

    deinit {
        if capacity > 0 {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    private mutating func grow() {
        let newCapacity = Swift.max(16, capacity * 2)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if capacity > 0 {
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    /// Moves the elements from `first` on into a new array, leaving `first` elements.
    mutating func popArray(from first: Int) -> [Element] {
        let n = count - first
        guard n > 0 else { return [] }
        let source = base + first
        count = first
        return [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: n)
            initialized = n
        }
    }
}

/// The byte-level JSON machinery behind `JSONStreamReader`, `JSONValue.parse` and
/// `JSONLinesReader`.
///
/// The text lives in one buffer: either the caller's (parsing a complete text in place) or an
/// owned one refilled chunk by chunk from a source. A token that straddles two chunks is kept
/// whole: before reading the next chunk the unread tail moves to the front of the buffer (which
/// grows only for a token longer than the free space). Every index into the buffer is therefore
/// relative, and functions that refill re-derive their indices from `pos`, which `refill()`
/// keeps pointing at the same byte.
struct JSONScanner: ~Copyable {
    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 512
    /// The chunk size for files and in-memory sources.
    static let defaultChunkSize = 65536

    // The buffer and the source.
    var base: UnsafeMutablePointer<UInt8>
    var capacity: Int
    let ownsBuffer: Bool
    /// The next byte to read.
    var pos = 0
    /// One past the last valid byte.
    var end: Int
    let source: JSONByteSource
    var sourceOffset = 0
    let chunkSize: Int
    var exhausted: Bool
    /// Bytes dropped from the front of the buffer so far (so `discarded + pos` is a file offset).
    var discarded = 0

    // The place.
    /// The current 1-based line.
    var line: Int
    /// The buffer index at which the current line starts (may be negative once dropped).
    var lineStart = 0
    /// UTF-8 continuation bytes between `lineStart` and the point decoded so far, so that
    /// columns count scalars.
    var lineContinuations = 0

    // The structure.
    /// Frames `0..<depth` are open; frames up to `frames.count` are kept for reuse.
    var frames = JSONStack<JSONFrame>()
    /// How many arrays and objects are open.
    var depth = 0
    /// Whether the top-level value has been begun.
    var rootTaken = false

    // Reusable storage.
    var scratch: [UInt8] = []
    var elementStack = JSONStack<JSONValue>()
    var memberStack = JSONStack<(key: String, value: JSONValue)>()

    /// Scans a complete text in place (the caller keeps `buffer` alive while the scanner lives).
    init(borrowing buffer: UnsafeBufferPointer<UInt8>, line: Int) {
        if let address = buffer.baseAddress, buffer.count > 0 {
            base = UnsafeMutablePointer(mutating: address)
            capacity = buffer.count
            ownsBuffer = false
        } else {
            base = .allocate(capacity: 1)
            capacity = 1
            ownsBuffer = true
        }
        end = buffer.count
        source = .none
        chunkSize = 0
        exhausted = true
        self.line = line
        skipByteOrderMark()
    }

    /// Scans a text read chunk by chunk from `source`.
    init(source: JSONByteSource, chunkSize: Int) {
        let chunk = max(1, chunkSize)
        capacity = chunk * 2
        base = .allocate(capacity: capacity)
        ownsBuffer = true
        end = 0
        self.source = source
        self.chunkSize = chunk
        exhausted = false
        line = 1
    }

    deinit {
        if ownsBuffer { base.deallocate() }
    }

    /// The buffer's size in bytes (tests check that it stays flat).
    var bufferCapacity: Int { capacity }

    // MARK: - Buffer

    /// Reads the first bytes and skips a UTF-8 byte-order mark.
    mutating func start() -> FileIOError? {
        while end - pos < 3 {
            switch fill() {
            case .success(true): continue
            case .success(false): break
            case .failure(let error): return error
            }
            break
        }
        skipByteOrderMark()
        return nil
    }

    mutating func skipByteOrderMark() {
        if pos == 0, end >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF {
            pos = 3
            lineStart = 3
        }
    }

    /// Reads one more chunk, keeping the bytes from `pos` on. `pos` keeps pointing at the same
    /// byte, but the buffer may have moved: callers re-derive their indices from `pos`.
    /// - Returns: false at the end of the input.
    mutating func refill() throws(JSONSyntaxError) -> Bool {
        switch fill() {
        case .success(let more): return more
        case .failure(let failure):
            throw error("cannot read \(failure.path): \(failure.reason)", at: end)
        }
    }

    mutating func fill() -> Result<Bool, FileIOError> {
        if exhausted { return .success(false) }
        let start = pos
        if start > 0 {
            let kept = end - start
            if kept > 0 { memmove(base, base + start, kept) }
            pos = 0
            end = kept
            lineStart -= start
            discarded += start
        }
        if capacity - end < chunkSize {
            let newCapacity = max(capacity * 2, end + chunkSize)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: base, count: end)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        switch source.read(into: base + end, count: chunkSize, at: sourceOffset) {
        case .success(let n):
            if n == 0 {
                exhausted = true
                return .success(false)
            }
            end += n
            sourceOffset += n
            return .success(true)
        case .failure(let failure):
            exhausted = true
            return .failure(failure)
        }
    }

    // MARK: - Places and errors

    /// The 1-based column of a buffer index on the current line, in scalars.
    func column(at index: Int) -> Int { index - lineStart - lineContinuations + 1 }

    /// The JSON pointer of the value being read; with `containerOnly`, of the innermost open
    /// array or object instead of its current member.
    func pointer(containerOnly: Bool = false) -> String {
        var result = ""
        let count = containerOnly ? depth - 1 : depth
        var index = 0
        while index < count {
            let frame = frames.base + index
            guard frame.pointee.hasMember else { break }
            if frame.pointee.isArray {
                result.append("/")
                result.append(String(frame.pointee.count - 1))
            } else {
                JSONPointer.append(frame.pointee.key, to: &result)
            }
            index += 1
        }
        return result
    }

    func error(_ message: String, at index: Int, containerOnly: Bool = false) -> JSONSyntaxError {
        JSONSyntaxError(
            line: line, column: column(at: index), pointer: pointer(containerOnly: containerOnly), message: message)
    }

    func endOfInput(_ expected: String, containerOnly: Bool = false) -> JSONSyntaxError {
        error("unexpected end of input, expected \(expected)", at: end, containerOnly: containerOnly)
    }

    /// A byte, or the character it starts, for a message: `'x'`, `'é' (U+00E9)`, `byte 0xFF`.
    func describe(at index: Int) -> String {
        guard index < end else { return "end of input" }
        let byte = base[index]
        if byte >= 0x21, byte <= 0x7E { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 {
            let length = utf8SequenceLength(at: index, limit: end)
            if length > 0,
                let scalar = String(decoding: UnsafeBufferPointer(start: base + index, count: length), as: UTF8.self)
                    .unicodeScalars.first
            {
                return "'\(scalar)' (U+\(Self.hex(scalar.value, digits: 4)))"
            }
        }
        return "byte 0x\(Self.hex(UInt32(byte), digits: 2))"
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The error for a byte that cannot start a value.
    func notAValue(at index: Int) -> JSONSyntaxError {
        guard index < end else { return endOfInput("a value") }
        let message: String
        switch base[index] {
        case UInt8(ascii: "N"): message = "NaN is not allowed in JSON"
        case UInt8(ascii: "I"): message = "Infinity is not allowed in JSON"
        case UInt8(ascii: "/"), UInt8(ascii: "#"): message = "comments are not allowed in JSON"
        case UInt8(ascii: "'"): message = "strings must be enclosed in double quotes"
        case UInt8(ascii: "+"): message = "a number cannot start with '+'"
        case UInt8(ascii: "."): message = "a number must have a digit before the decimal point"
        default: message = "expected a value, found \(describe(at: index))"
        }
        return error(message, at: index)
    }
}
