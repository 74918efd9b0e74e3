/// A pull reader that walks a JSON document without holding it: memory stays flat in the file's
/// size (one 64 KiB chunk, plus the one value you ask it to build).
///
/// Walk a document by asking for what you expect, and build (`readValue()`) only the small
/// values you need:
///
/// ```swift
/// let reader = try JSONStreamReader(path: "instances.json")
/// try reader.beginObject()
/// while let key = try reader.nextKey() {
///     guard key == "annotations" else { continue }   // an unread value is skipped
///     try reader.beginArray()
///     while try reader.nextElement() {
///         let annotation = try reader.readValue()      // one annotation at a time
///         guard annotation["bbox"] != nil else { report(at: reader.pointer); continue }
///     }
/// }
/// try reader.finish()
/// ```
///
/// The reader is strict RFC 8259 (see `JSONValue.parse(_:line:)`), and every error carries the
/// line, column and JSON pointer of the problem. After an error the reader is spent: every later
/// call throws the same error. Calls that do not fit the document's shape so far (`readValue()`
/// before `nextKey()`, `nextKey()` inside an array) are errors too, never traps.
///
/// A reader is not thread-safe; use it from one task at a time.
public final class JSONStreamReader {
    private var scanner: JSONScanner
    private var failure: JSONSyntaxError?

    /// Reads the file at `path` in 64 KiB chunks. A UTF-8 byte-order mark at the start is skipped.
    /// - Throws: `FileIOError` if the file cannot be opened or read, or is not a regular file.
    public convenience init(path: String) throws(FileIOError) {
        try self.init(path: path, chunkSize: JSONScanner.defaultChunkSize)
    }

    /// Reads a text held in memory. A UTF-8 byte-order mark at the start is skipped.
    public convenience init(bytes: [UInt8]) {
        self.init(bytes: bytes, chunkSize: JSONScanner.defaultChunkSize)
    }

    /// Reads a file in chunks of `chunkSize` bytes (tests use tiny chunks to exercise boundaries).
    init(path: String, chunkSize: Int) throws(FileIOError) {
        scanner = JSONScanner(source: .file(try JSONFileDescriptor(path: path)), chunkSize: chunkSize)
        if let error = scanner.start() { throw error }
    }

    /// Reads a text held in memory, handed to the scanner in chunks of `chunkSize` bytes.
    init(bytes: [UInt8], chunkSize: Int) {
        scanner = JSONScanner(source: .memory(bytes), chunkSize: chunkSize)
        _ = scanner.start()  // An in-memory source cannot fail.
    }

    /// The JSON pointer (RFC 6901) of the value about to be read or being read: `""` for the
    /// top-level value, `/annotations/2` after the third `nextElement()` of the top-level
    /// `annotations` array, `/annotations/2/bbox` after `nextKey()` returned `bbox` in it. It stays
    /// on that value after `readValue()`, so it can name the value in a diagnostic.
    public var pointer: String { scanner.pointer() }

    /// The 1-based line of the next unread byte.
    public var line: Int { scanner.line }

    /// The 1-based column of the next unread byte, counting Unicode scalars.
    public var column: Int { scanner.column(at: scanner.pos) }

    /// The offset of the next unread byte from the start of the input.
    public var byteOffset: Int { scanner.discarded + scanner.pos }

    /// How many arrays and objects are open around the reader's place.
    public var depth: Int { scanner.depth }

    /// The size of the reader's buffer in bytes: two chunks, unless one token was longer.
    var bufferCapacity: Int { scanner.bufferCapacity }

    /// What the next value is, without consuming it (leading whitespace is consumed).
    public func peekKind() throws(JSONSyntaxError) -> JSONKind {
        if let failure { throw failure }
        do { return try scanner.streamPeekKind() } catch { throw fail(error) }
    }

    /// Enters the object that must come next (consumes its `{`).
    public func beginObject() throws(JSONSyntaxError) {
        if let failure { throw failure }
        do { try scanner.streamBegin(array: false) } catch { throw fail(error) }
    }

    /// The key of the next member of the innermost object, leaving the reader on its value; nil
    /// when the object ends (its `}` is consumed and the object closed).
    ///
    /// If the previous member's value was not read, it is skipped (and validated) first. Keys are
    /// checked for duplicates.
    public func nextKey() throws(JSONSyntaxError) -> String? {
        if let failure { throw failure }
        do { return try scanner.streamNextKey() } catch { throw fail(error) }
    }

    /// Enters the array that must come next (consumes its `[`).
    public func beginArray() throws(JSONSyntaxError) {
        if let failure { throw failure }
        do { try scanner.streamBegin(array: true) } catch { throw fail(error) }
    }

    /// Whether another element follows in the innermost array (the reader is then on it); false
    /// when the array ends (its `]` is consumed and the array closed).
    ///
    /// If the previous element was not read, it is skipped (and validated) first.
    public func nextElement() throws(JSONSyntaxError) -> Bool {
        if let failure { throw failure }
        do { return try scanner.streamNextElement() } catch { throw fail(error) }
    }

    /// Builds the next value, whatever its kind (an object or array is read whole).
    public func readValue() throws(JSONSyntaxError) -> JSONValue {
        if let failure { throw failure }
        do { return try scanner.streamReadValue() } catch { throw fail(error) }
    }

    /// Skips the next value without building it, still validating it (syntax, UTF-8, duplicate
    /// keys); memory is proportional to its depth, not its size. Numbers are checked for syntax
    /// but not converted, so a number beyond the `Double` range is not an error here.
    public func skipValue() throws(JSONSyntaxError) {
        if let failure { throw failure }
        do { try scanner.streamSkipValue() } catch { throw fail(error) }
    }

    /// Skips (and validates) whatever is left of the document, then checks that only whitespace
    /// follows the top-level value.
    public func finish() throws(JSONSyntaxError) {
        if let failure { throw failure }
        do { try scanner.streamFinish() } catch { throw fail(error) }
    }

    private func fail(_ error: JSONSyntaxError) -> JSONSyntaxError {
        failure = error
        return error
    }
}
