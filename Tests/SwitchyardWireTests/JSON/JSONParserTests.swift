import Foundation
import SwitchyardWire
import Testing

@Suite struct JSONParserTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(s) }

    @Test func parsesAllValueKinds() throws {
        let v = try parse(#" {"a":[1,-2.5,1e3,true,false,null,"x\n\u00e9\ud83d\ude00"],"b":{}} "#)
        #expect(v["a"]?.arrayValue?.count == 7)
        #expect(v["a"]?.arrayValue?[0] == .int(1))
        #expect(v["a"]?.arrayValue?[1] == .double(-2.5))
        #expect(v["a"]?.arrayValue?[2] == .double(1000))
        #expect(v["a"]?.arrayValue?[6] == .string("x\né😀"))
        #expect(v["b"] == .object([:]))
    }

    @Test(arguments: [
        ("{", "expected a string key"), (#"{"a":1,}"#, "expected a string key"), ("[1 2]", "expected ','"), (#"{"a":1}x"#, "after the JSON value"),
        (#"{"a":1,"a":2}"#, "duplicate key"), (#"{"a\u0000b":1}"#, "NUL character in an object key"), ("1e400", "out of range"),
        ("\"tab\u{09}in string\"", "control character"), ("01", "after the JSON value"), ("-", "invalid number"), (#""\x""#, "invalid escape"),
        ("nul", "unexpected end"), ("nulL", "invalid literal"), ("", "unexpected end"),
    ])
    func rejects(_ input: String, _ reason: String) {
        do {
            _ = try parse(input)
            Issue.record("accepted \(input)")
        } catch let error as JSONParseError {
            #expect(error.message.contains(reason), "\(input): \(error.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func boundsNestingWithoutRecursingForever() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try parse(deep)
            Issue.record("accepted")
        } catch let error as JSONParseError { #expect(error.message.contains("nested deeper than 128")) } catch { Issue.record("\(error)") }
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect((try? parse(ok)) != nil)
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try parse(#""a\ud800b""#) == .string("a\u{FFFD}b"))
        #expect(try parse(#""\udc00""#) == .string("\u{FFFD}"))
    }

    @Test func largeObjectsDetectDuplicatesToo() {
        var members = (0..<100).map { #""k\#($0)":\#($0)"# }
        members.append(#""k7":0"#)
        #expect(throws: JSONParseError.self) { try parse("{" + members.joined(separator: ",") + "}") }
    }

    @Test func writerRoundTripsAndEscapes() throws {
        let v: JSONValue = .object(["s": .string("q\"\\/\n\u{1}é"), "n": .double(0.25), "i": .int(-3), "a": .array([.null, .bool(true)])])
        let text = JSONWriter.encodeString(v)
        #expect(text.contains(#"\u0001"#))
        #expect(text.contains("/"))
        #expect(try parse(text) == v)
    }
}

@Suite struct JSONParserStringScanTests {
    /// Strings with quotes, backslashes, control and non-ASCII characters at every offset of an
    /// 8-byte word round-trip through Foundation's encoder and our parser.
    @Test func stringsRoundTripAtEveryWordOffset() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\u{01}", "é", "😀", "/", "a"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let length = Int.random(in: 0..<40, using: &generator)
            var s = ""
            for _ in 0..<length {
                s.append(
                    Bool.random(using: &generator)
                        ? specials.randomElement(using: &generator)! : Character(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &generator))))
            }
            let encoded = try JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
            let parsed = try JSONParser.parse([UInt8](encoded))
            #expect(parsed == .array([.string(s)]), "\(s.debugDescription)")
        }
    }
}
