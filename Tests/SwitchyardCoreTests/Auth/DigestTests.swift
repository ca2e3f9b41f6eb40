import Crypto
import SwitchyardCore
import SwitchyardWire
import SwitchyardWireTesting
import Testing

/// Token hashes come from swift-crypto (`Authenticator.digest`); the Wire module's own SHA-256
/// derives non-secret names. Both must be SHA-256: FIPS 180-4 vectors and random messages of
/// every length around the block boundaries give the same digest.
@Suite struct DigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(_ message: String, _ hex: String) {
        #expect(SHA256Digest.hexString(Authenticator.digest(message)) == hex)
        #expect(SHA256Digest.hexString(SHA256Digest.hash(message.utf8)) == hex)
    }

    @Test func bothImplementationsAgreeAcrossBlockBoundaries() {
        var random = SeededRandom(seed: 42)
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(SHA256Digest.hash(bytes) == Array(SHA256.hash(data: bytes)), "length \(length)")
        }
    }
}
