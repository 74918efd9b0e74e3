import Foundation
import GroundworkCore
import GroundworkGeometry

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML element read in full: its attributes, text and child elements, with the element path
/// and line by which problems are reported.
final class XMLNode {
    let name: String
    let attributes: [String: String]
    /// The element path, e.g. `annotation/object[2]/bndbox` (see ``XMLRecordScanner``).
    let path: String
    /// The line of the start tag (the line on which it ends, for a tag spanning lines).
    let line: Int
    var children: [XMLNode] = []
    /// The character data directly inside the element.
    var text = ""

    init(name: String, attributes: [String: String], path: String, line: Int) {
        self.name = name
        self.attributes = attributes
        self.path = path
        self.line = line
    }

    /// The first child element with this name.
    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// Every child element with this name, in document order.
    func children(named name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// The text without surrounding white space.
    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Streams an XML file with Foundation's SAX `XMLParser` (memory flat in the file's size) and
/// hands over, one at a time, complete element trees for the elements at `recordDepth` (1: the
/// root element itself; 2: each child of the root), so that readers work on small trees while
/// the file as a whole is never held in memory.
///
/// Element paths: names joined by `/` from the root, e.g. `annotations/image[3]/box[2]`. An
/// element whose name is in `repeated` always carries its 1-based index among same-named
/// siblings; any other element carries it only when it is not the first of its name (a
/// duplicate), so a well-formed file's singletons read plainly (`annotation/size/width`).
///
/// Malformed XML is reported once, at the first problem, with the element path and the line and
/// column (code `xml_syntax`); a file that ends before its root element closes, and a file with
/// no root element, are reported too. The record being built when the problem is met is dropped;
/// records completed before it have been handed over. External entities are never resolved.
final class XMLRecordScanner: NSObject, XMLParserDelegate {
    private struct Frame {
        var name: String
        var path: String
        var counts: [String: Int] = [:]
        var node: XMLNode?
    }

    private let repeated: Set<String>
    private let recordDepth: Int
    private var stack: [Frame] = []
    private var rootCount = 0
    private var syntax: (code: Int, line: Int, column: Int, path: String)?
    private var handlerError: (any Error)?
    private var onRecord: ((XMLNode) throws -> Void)?
    /// Called for each element above the record depth as it opens: name, path, line, attributes.
    var onOpen: ((String, String, Int, [String: String]) -> Void)?

    init(repeated: Set<String>, recordDepth: Int) {
        self.repeated = repeated
        self.recordDepth = max(1, recordDepth)
    }

    /// Reads `path`, calling `record` for each complete record element in document order.
    /// - Parameter reportAs: the file named in diagnostics (nil: the context's file).
    /// - Throws: a `FileIOError` when the file cannot be opened, and whatever `record` throws.
    func scan(path: String, context: ReaderContext, reportAs: String?, record: (XMLNode) throws -> Void) throws {
        // Open it ourselves first: the parser reports an unreadable file as a parse error.
        close(try FileIO.openRegularFile(path))
        guard let parser = XMLParser(contentsOf: URL(fileURLWithPath: path)) else {
            throw FileIOError(path: path, operation: "open", code: EIO)
        }
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = self
        withoutActuallyEscaping(record) { record in
            onRecord = record
            defer { onRecord = nil }
            _ = parser.parse()
        }
        parser.delegate = nil
        if let handlerError { throw handlerError }
        if let syntax {
            let place = syntax.path.isEmpty ? SourceLocation.line(syntax.line, column: syntax.column) : .xmlElement(syntax.path)
            context.report(
                .error, place, code: "xml_syntax",
                "malformed XML: \(Self.describe(syntax.code)) (line \(syntax.line):\(syntax.column))", file: reportAs)
        } else if let open = stack.last {
            context.report(
                .error, .xmlElement(open.path), code: "xml_syntax",
                "the file ends before <\(open.name)> is closed (truncated?) (line \(parser.lineNumber))", file: reportAs)
        } else if rootCount == 0 {
            context.report(
                .error, .file, code: "xml_syntax", "the file holds no XML element (empty or truncated?)", file: reportAs)
        }
    }

    // MARK: XMLParserDelegate

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        guard syntax == nil, handlerError == nil else { return }
        let path: String
        if stack.isEmpty {
            rootCount += 1
            path = elementName
        } else {
            let count = (stack[stack.count - 1].counts[elementName] ?? 0) + 1
            stack[stack.count - 1].counts[elementName] = count
            let segment = repeated.contains(elementName) || count > 1 ? "\(elementName)[\(count)]" : elementName
            path = stack[stack.count - 1].path + "/" + segment
        }
        let depth = stack.count + 1
        var frame = Frame(name: elementName, path: path)
        if depth >= recordDepth {
            let node = XMLNode(name: elementName, attributes: attributeDict, path: path, line: parser.lineNumber)
            if depth > recordDepth { stack[stack.count - 1].node?.children.append(node) }
            frame.node = node
        } else {
            onOpen?(elementName, path, parser.lineNumber, attributeDict)
        }
        stack.append(frame)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard syntax == nil, handlerError == nil, let frame = stack.popLast() else { return }
        guard stack.count + 1 == recordDepth, let node = frame.node, let onRecord else { return }
        do {
            try onRecord(node)
        } catch {
            handlerError = error
            parser.abortParsing()
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard syntax == nil, handlerError == nil, let node = stack.last?.node else { return }
        node.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard syntax == nil, handlerError == nil, let node = stack.last?.node else { return }
        node.text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard syntax == nil, handlerError == nil else { return }
        syntax = ((parseError as NSError).code, parser.lineNumber, parser.columnNumber, stack.last?.path ?? "")
    }

    /// A message for a libxml2 error code (the codes `XMLParser` passes through).
    static func describe(_ code: Int) -> String {
        switch code {
        case 4: return "the document is empty"
        case 5: return "the text ends inside an element, or goes on after the root element"
        case 6, 7, 8: return "a malformed character reference"
        case 9: return "a character that XML does not allow"
        case 23: return "an entity reference without its closing ';'"
        case 26: return "an undeclared entity (escape '&' as '&amp;')"
        case 31, 32: return "an unsupported encoding"
        case 38: return "a '<' inside an attribute value (escape it as '&lt;')"
        case 39: return "an attribute value without quotes"
        case 40: return "an attribute value whose quote is not closed"
        case 41: return "an attribute without a value"
        case 42: return "an attribute given twice"
        case 45: return "a comment that is not closed"
        case 65: return "attributes not separated by white space"
        case 68: return "a malformed element name"
        case 73: return "a tag without its closing '>'"
        case 76: return "a closing tag that does not match the open element"
        case 89: return "entity expansion that loops or grows too large"
        default: return "libxml2 error \(code)"
        }
    }
}
