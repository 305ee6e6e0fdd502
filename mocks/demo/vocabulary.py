"""The demo system's own words, and the reference system's words they stand for (its facade translates both ways).
The declarative driver learns the same tables from the target file, not from here."""

from __future__ import annotations

# The portal's status codes (harness/data/lifecycle.yaml) → the demo's words.
STATUS = {
    "1": "MOI_DANG_KY",
    "2": "DA_TIEP_NHAN",
    "3": "KHONG_TIEP_NHAN",
    "4": "DANG_XU_LY",
    "5": "CHO_BO_SUNG",
    "6": "CHO_NOP_PHI",
    "7": "DA_RUT",
    "8": "DUNG_XU_LY",
    "9": "DA_XU_LY_XONG",
    "10": "DA_TRA_KET_QUA",
}
ACTION = {
    "submit": "NOP_HO_SO",
    "receive": "TIEP_NHAN",
    "refuse": "TU_CHOI",
    "process": "XU_LY",
    "request-supplement": "YEU_CAU_BO_SUNG",
    "supplement": "BO_SUNG",
    "request-payment": "YEU_CAU_NOP_PHI",
    "withdraw": "RUT_HO_SO",
    "stop": "DUNG_XU_LY",
    "finish": "HOAN_THANH",
    "return": "TRA_KET_QUA",
    "transfer": "CHUYEN_LIEN_THONG",
}
CHANNEL = {"online": "TRUC_TUYEN", "counter": "TRUC_TIEP", "post": "BUU_CHINH"}
LEVEL = {"toàn trình": "TOAN_TRINH", "một phần": "MOT_PHAN"}
PAYMENT_STATE = {"pending": "CHO_THANH_TOAN", "paid": "DA_THANH_TOAN", "failed": "THAT_BAI"}
TRANSFER_METHOD = {"electronic": "DIEN_TU", "paper": "BAN_GIAY"}
EXPORT_KIND = {"dossiers": "ho-so", "procedures": "thu-tuc", "agencies": "co-quan", "transactions": "giao-dich"}
UNKNOWN_ACTION = "khong-ro"  # what the reference hears for a word the demo does not know: it refuses it (422)


def back(table: dict[str, str]) -> dict[str, str]:
    """The demo's word → the reference's."""
    return {v: k for k, v in table.items()}
