"""Administrative division codes (GB/T 2260): six digits, two each for the province, the
city and the county, so a jurisdiction is a prefix."""

from __future__ import annotations

from collections.abc import Collection

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
"""The province-level divisions, by code."""


MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
"""Beijing, Tianjin, Shanghai, Chongqing: their districts answer to the municipality itself
(no city level between)."""


CITIES_WITHOUT_COUNTIES = frozenset({"441900", "442000", "460400", "620200"})
"""东莞, 中山, 儋州, 嘉峪关: prefecture-level cities with no counties, whose own code (ending
in 00) is where an institution is."""


def is_county_code(code: str) -> bool:
    """Six digits under a real province, naming a county (not a city's or province's own
    code, which end in 00, except a city without counties)."""
    if code in CITIES_WITHOUT_COUNTIES:
        return True
    return (len(code) == 6 and code.isdigit() and code[:2] in PROVINCES
            and code[2:4] != "00" and code[4:] != "00")


def known_region(code: str, counties: Collection[str]) -> bool:
    """A region the platform's data knows (`counties`: those the province's policy lists):
    a province; a city whose counties are listed, or one without counties (not a
    municipality's city code: it has no city level); a listed county."""
    if len(code) != 6 or not code.isdigit() or code[:2] not in PROVINCES:
        return False
    if code in CITIES_WITHOUT_COUNTIES or code.endswith("0000"):
        return True
    if code.endswith("00"):
        return code[:2] not in MUNICIPALITIES and any(c.startswith(code[:4]) for c in counties)
    return code in counties


NATIONAL = "000000"
"""The code a national regulator's token names: every region is under it."""


def jurisdiction_prefix(region: str) -> str:
    """The prefix of every code under an office's region: '110105' -> '110105' (a county),
    '110100' -> '1101' (a city), '110000' -> '11' (a province), '000000' -> '' (national)."""
    if region == NATIONAL:
        return ""
    if region.endswith("0000"):
        return region[:2]
    if region.endswith("00"):
        return region[:4]
    return region
