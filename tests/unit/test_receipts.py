import asyncio

from services.submission import receipts


def test_codes_are_random_and_well_formed() -> None:
    codes = {receipts.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(receipts.normalise(c) == c for c in codes)
    # All 100 bits are random: every one of the 20 characters takes many values.
    chars = [c[3:].replace("-", "") for c in codes]
    assert all(len({c[i] for c in chars}) > 20 for i in range(20))


def test_people_can_type_codes_loosely() -> None:
    code = receipts.new_code()
    assert receipts.normalise(code.lower().replace("-", " ")) is None or receipts.normalise(code.lower()) == code
    assert receipts.normalise("  " + code.lower() + " ") == code
    assert receipts.normalise("BR-not-a-code") is None
    assert receipts.normalise("x" * 1000) is None


def test_the_stored_key_is_a_digest_of_the_whole_code() -> None:
    code = receipts.new_code()
    assert len(receipts.digest(code)) == 32 and receipts.digest(code) == receipts.digest(code)
    # Every character counts: codes that share their first half do not share a digest.
    assert receipts.digest(code) != receipts.digest(code[:-1] + ("0" if code[-1] != "0" else "1"))
    # 20 Crockford base32 characters: 100 random bits.
    assert len(code.replace("-", "")) - 2 == 20


def test_old_rows_still_verify_against_their_slow_hash() -> None:
    code = receipts.new_code()
    stored = receipts._HASHER.hash(code)
    assert asyncio.run(receipts.verify(stored, code))
    assert not asyncio.run(receipts.verify(stored, receipts.new_code()))


def test_a_submission_key_stands_for_one_well_formed_code() -> None:
    a = receipts.code_for_key("secret", "k" * 20)
    assert receipts.normalise(a) == a
    assert receipts.code_for_key("secret", "k" * 20) == a
    assert receipts.code_for_key("secret", "k" * 21) != a
    assert receipts.code_for_key("another secret", "k" * 20) != a  # needs the server's key to compute
    assert len({receipts.code_for_key("s", receipts.new_submission_key()) for _ in range(200)}) == 200
