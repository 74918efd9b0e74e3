/// A list of paths held in one byte arena: about the length of the path plus 8 bytes each,
/// instead of a `String` allocation each (an import of millions of files keeps its list in a
/// few tens of megabytes). Paths are kept in the order added; lookups by path and by base name
/// go through indexes sorted by bytes, built on demand.
public struct PathList: RandomAccessCollection, Sendable, Equatable {
    private var bytes: [UInt8] = []
    /// The end of each path in `bytes`.
    private var ends: [Int] = []

    public init() {}

    public init(_ paths: some Sequence<String>) {
        for path in paths { append(path) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(position: Int) -> String {
        withBytes(at: position) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of the path at `position`.
    public func withBytes<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = position == 0 ? 0 : ends[position - 1]
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<ends[position]])) }
    }

    public mutating func append(_ path: String) {
        var path = path
        path.withUTF8 { bytes.append(contentsOf: $0) }
        ends.append(bytes.count)
    }

    /// Keeps the first occurrence of every path, in order.
    public mutating func removeDuplicates() {
        let order = sortedOrder { bytes in bytes }
        var duplicate = [Bool](repeating: false, count: count)
        var found = false
        for index in order.indices.dropFirst() where equal(order[index - 1], order[index]) {
            // The sort is stable, so the later of two equal paths comes second.
            duplicate[order[index]] = true
            found = true
        }
        guard found else { return }
        var kept = PathList()
        for position in indices where !duplicate[position] { withBytes(at: position) { kept.appendBytes($0) } }
        self = kept
    }

    private mutating func appendBytes(_ path: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: path)
        ends.append(bytes.count)
    }

    private func equal(_ a: Int, _ b: Int) -> Bool {
        withBytes(at: a) { x in withBytes(at: b) { y in x.elementsEqual(y) } }
    }

    /// The positions sorted (stably) by `key` of each path's bytes, compared as bytes.
    private func sortedOrder(
        by key: @escaping (UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>
    ) -> [Int] {
        var order = Array(indices)
        order.sort { a, b in
            withBytes(at: a) { x in
                withBytes(at: b) { y in
                    let (kx, ky) = (key(x), key(y))
                    if kx.elementsEqual(ky) { return a < b }
                    return kx.lexicographicallyPrecedes(ky)
                }
            }
        }
        return order
    }

    /// The base name of a path's bytes: after the last `/`.
    private static func baseName(_ path: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return UnsafeBufferPointer(rebasing: path[(slash + 1)...])
    }

    /// A lookup of the paths by their bytes, or by their base names' bytes.
    public struct Lookup: Sendable {
        fileprivate let order: [Int]
        fileprivate let baseNames: Bool
    }

    /// An index by path (4 to 8 bytes a path).
    public func indexByPath() -> Lookup { Lookup(order: sortedOrder { $0 }, baseNames: false) }

    /// An index by base name.
    public func indexByBaseName() -> Lookup { Lookup(order: sortedOrder(by: Self.baseName), baseNames: true) }

    /// The positions, in order, of the paths (or base names, for an index by base name) equal to `key`.
    public func positions(of key: String, in index: Lookup) -> [Int] {
        var key = key
        return key.withUTF8 { wanted -> [Int] in
            func compare(_ position: Int) -> Int {
                withBytes(at: position) { path in
                    let name = index.baseNames ? Self.baseName(path) : path
                    if name.elementsEqual(wanted) { return 0 }
                    return name.lexicographicallyPrecedes(wanted) ? -1 : 1
                }
            }
            var low = 0
            var high = index.order.count
            while low < high {
                let middle = (low + high) / 2
                if compare(index.order[middle]) < 0 { low = middle + 1 } else { high = middle }
            }
            var found: [Int] = []
            while low < index.order.count, compare(index.order[low]) == 0 {
                found.append(index.order[low])
                low += 1
            }
            return found
        }
    }
}
