"""A labelled evaluation set for strip-boilerplate: article lines marked body or boilerplate.

Built from real articles in ``../shared/data``:

- xwlb (CCTV 新闻联播 transcripts): the page template is labelled by its
  known shape, not by vocclean's rules: a line that is only the lead-in
  ``央视网消息（新闻联播）：``, the ``[查看原文](…)`` link, ``---`` and the
  ``(更新时间戳: …)`` line are boilerplate, and so is a line that is only
  ``undefined`` (a page script's empty value, in a few stories); a lead-in before text is a prefix
  to strip; every other line is body.
- tw_news (UDN, LTN, China Times; one row per URL): LTN's fixed lines
  (``請繼續往下閱讀...``, the app promotion, the topic-page link, ``新聞來源：…``)
  are boilerplate wherever they sit; at UDN the bulleted strip ``▪…`` and
  everything after it (tags, teasers), and ``延伸閱讀`` with what follows, are
  boilerplate; the sites' credit lines (Taipei Times ``By … / Staff
  reporter`` and ``Photo: …``, UDN ``文／…``, a lone ``（記者…攝）``) are
  boilerplate; a leading ``〔記者…／…報導〕`` is a prefix. Photo captions are
  body (vocclean keeps them).

Then boilerplate lines of every kind are added at realistic positions: a few
head lines, datelines before the first line, a follow or reading prompt in
the middle, a footer cluster at the tail, an END marker or a related-articles
heading followed by teasers (other articles' first lines, cut with "...").
Each added line comes from one of three pools: ``seen`` (forms the rule
packs were written from), ``variants`` (two batches of other wordings written
for this set before the rules were finished: their misses led to two rounds
of more general rules, so they are no longer unseen) and ``held-out`` (a third
batch, written after the last rule change and never used to write or tune a
rule: the honest measure of boilerplate no rule was written from).

``build(shared_data, stories=…, seed=…)`` returns ``Document``s; ``score``
compares a matcher's removals with the labels.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

BODY = "body"


@dataclass
class Line:
    text: str
    label: str = BODY  # "body" or the boilerplate kind
    pool: str = "real"  # real (from the article), or the pool of an added line
    prefix: str = ""  # a lead-in the line starts with, to be stripped


@dataclass
class Document:
    source: str
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# --- real articles --------------------------------------------------------------

CCTV_LEAD = "央视网消息（新闻联播）："
LTN_FIXED = {
    "請繼續往下閱讀...": "reading-prompt",
    "不用抽 不用搶 現在用APP看新聞 保證天天中獎": "qr-follow",
    "點我下載APP": "qr-follow",
    "按我看活動辦法": "qr-follow",
    "「武漢肺炎專區」請點此，更多相關訊息，帶您第一手掌握。": "navigation",
    "新聞來源：TAIPEI TIMES": "credit",
}


def xwlb_documents(shared: Path, count: int, rng: random.Random) -> list[Document]:
    with gzip.open(shared / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as handle:
        stories = [json.loads(line) for line in handle]
    documents = []
    for story in rng.sample(stories, min(count, len(stories))):
        document = Document(f"xwlb:{story['id']}")
        for text in story["text"].split("\n"):
            stripped = text.strip()
            line = Line(text)
            if stripped.rstrip(":： ") in ("央视网消息（新闻联播）", "央视网消息"):
                line.label = "dateline"
            elif stripped.startswith("央视网消息"):
                end = text.index("：") + 1 if "：" in text[:20] else len("央视网消息")
                line.prefix = text[:end]
            elif stripped.startswith("[查看原文](") or stripped in ("---", "undefined"):
                line.label = "navigation"
            elif stripped.startswith("(更新时间戳"):
                line.label = "metadata"
            document.lines.append(line)
        documents.append(document)
    return documents


def tw_documents(shared: Path) -> list[Document]:
    seen_links: set[str] = set()
    documents = []
    for path in sorted((shared / "tw_news_covid_zh_hant").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["LINK"] in seen_links or not row["CONTENT"].strip():
                    continue
                seen_links.add(row["LINK"])
                documents.append(_tw_document(path.stem.split("_")[0], row))
    return documents


def _tw_document(outlet: str, row: dict[str, str]) -> Document:
    document = Document(f"tw:{row['LINK']}")
    after_strip = False
    first_text = True
    for text in row["CONTENT"].split("\n"):
        stripped = text.strip()
        line = Line(text)
        if outlet == "udn" and (stripped.startswith("▪") or stripped.startswith("延伸閱讀")):
            after_strip = True
        if after_strip and stripped:
            line.label = "related-teaser"
        elif stripped in LTN_FIXED:
            line.label = LTN_FIXED[stripped]
        elif _is_credit_line(stripped):
            line.label = "credit"
        elif stripped.startswith("〔") and "報導〕" in stripped[:30]:
            line.prefix = text[: text.index("〕") + 1]
        elif first_text and stripped.startswith("【") and "報導】" in stripped[:30]:
            line.prefix = text[: text.index("】") + 1]
        if stripped:
            first_text = False
        document.lines.append(line)
    return document


def _is_credit_line(stripped: str) -> bool:
    """The sites' own credit lines: Taipei Times bylines and photo credits, UDN's 文／…, LTN's (記者…攝)."""
    return (
        stripped.startswith("Photo: ")
        or (stripped.startswith("By ") and "/ Staff" in stripped)
        or (stripped.startswith("文／") and len(stripped) <= 12)
        or (stripped.startswith("（記者") and stripped.endswith("攝）") and len(stripped) <= 12)
    )


# --- added boilerplate ----------------------------------------------------------

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陳建宏", "林怡君", "黄磊", "周敏"]
EN_NAMES = ["Wang Shidan", "Li Zhen", "Jane Doe", "Chen Hao", "Maria Lopez"]
ORGS = ["新华社", "人民日报", "黔西南州教育局", "中国新闻网", "中央社", "市教育局"]
ACCOUNTS = ["印象黔西南", "教育之声", "青岛人社", "新闻早知道"]
EMAILS = ["news@example.com", "tougao@example.cn", "yxqxn@example.org"]
PHONES = ["0851-12345678", "010-66778899", "(02)2345-6789"]

# kind -> (position, templates). position: head, tail, or mid (may also sit in the middle).
SEEN: dict[str, list[str]] = {
    "disclaimer": [
        "该文观点和立场仅代表作者本人，{acct}仅提供信息存储空间服务。",
        "免责声明：本文内容仅供参考，不构成投资建议。",
        "图片来源于网络，如有侵权请联系删除。",
        "版权归原作者所有",
        "轉載請註明出處",
    ],
    "qr-follow": [
        "扫描{acct}公众微信二维码,获取更多精彩!",
        "长按识别二维码关注我们",
        "点击上方蓝字关注我们",
        "點我下載APP",
    ],
    "reward-contact": ["赞赏金额:¥元", "投稿邮箱:{email}", "联系电话：{phone}", "商务合作：微信 abc123"],
    "credit": [
        "( 来源 ‖ {org} 编辑 ‖ {acct} )",
        "责任编辑：{name}",
        "来源：{org}",
        "（本报记者 {name} 通讯员 {name2}）",
        "Responsible editor: {en} | Audit: {en2}",
    ],
    "reading-prompt": ["請繼續往下閱讀...", "点击阅读原文", "展开全文"],
    "navigation": ["【打印】【关闭】", "返回搜狐，查看更多", "上一篇：{title}"],
    "metadata": [
        "原标题：{title}",
        "发布时间：{date} 10:22 来源：{org}",
        "Author:{en} Time:{date}",
        "阅读 10万+",
    ],
}
UNSEEN: dict[str, list[str]] = {
    "disclaimer": [
        "声明：本文仅代表作者观点，不代表本站立场，如有异议请联系我们。",
        "本站部分图片来自互联网，若涉及侵权请及时告知，我们将第一时间处理。",
        "文章为作者独立观点，不代表本公众号立场。",
        "特别声明：以上内容为自媒体平台用户上传并发布，本平台仅提供信息存储空间服务。",
    ],
    "qr-follow": [
        "↓↓↓ 扫码关注 ↓↓↓",
        "微信搜索“{acct}”关注我们，第一时间获取最新资讯",
        "欢迎分享到朋友圈",
        "下载新闻客户端，看更多精彩新闻",
        "Scan the QR code to follow our WeChat account",
    ],
    "reward-contact": ["喜欢这篇文章？请作者喝杯咖啡", "新闻热线：{phone}（24小时）", "欢迎投稿：{email}"],
    "credit": [
        "编辑｜{name}  审核｜{name2}",
        "图文来源：{org}",
        "记者：{name} 摄影：{name2}",
        "（通讯员 {name}）",
        "(Reporting by {en}; Editing by {en2})",
    ],
    "reading-prompt": ["阅读全文 >>", "查看更多>>", "Continue reading"],
    "navigation": ["分享到：微信 微博 QQ空间", "返回顶部", "【纠错】【责任编辑：{name}】"],
    "metadata": [
        "来源：{org}  作者：{name}  发布时间：{date}",
        "{date} 09:30 浏览次数：{n}",
        "字号：大 中 小",
    ],
}
# A second batch of variants (their misses led to the second round of general rule changes).
VARIANTS_2: dict[str, list[str]] = {
    "disclaimer": [
        "本文系转载，旨在传递更多信息，不代表本网观点和立场。",
        "文中观点仅供参考，投资有风险，入市需谨慎。",
        "注：本文部分素材来源于网络，版权归原作者所有。",
        "免责申明：本号转载文章仅用于分享，不作商业用途。",
        "Disclaimer: The content is for informational purposes only.",
    ],
    "qr-follow": [
        "关注{acct}视频号，看更多现场画面",
        "扫一扫，加入读者交流群",
        "Follow us on WeChat: {acct}",
        "星标我们，不错过每一篇推送",
    ],
    "reward-contact": ["读者热线：{phone}", "Email: {email}", "合作请联系：{email}", "打赏作者"],
    "credit": [
        "统筹：{name}  文字：{name2}  摄影：{name}",
        "本文作者：{name}",
        "来源丨{org}",
        "（{org}供稿）",
        "Source: {org}",
    ],
    "reading-prompt": ["点击“阅读原文”查看完整报道", "继续阅读全文>>", "Read the full story"],
    "navigation": ["上一篇 下一篇", "【关闭窗口】【打印本页】", "返回首页 | 网站地图 | 联系我们"],
    "metadata": [
        "发布日期：{date}    访问次数：{n}",
        "编辑时间：{date}",
        "Posted on {date}",
        "原文标题：{title}",
    ],
}
# Written after the last rule change and never used to write or tune a rule.
HELD_OUT: dict[str, list[str]] = {
    "disclaimer": [
        "本文转载自网络，仅作分享，如需删除请联系后台。",
        "以上内容不构成任何投资建议，据此操作风险自担。",
        "本文为作者原创，未经授权禁止转载。",
        "The opinions expressed are solely those of the author.",
    ],
    "qr-follow": [
        "↓↓点击下方名片，关注我们↓↓",
        "微信扫码，订阅每日早报",
        "打开抖音搜索“{acct}”",
        "Like us on Facebook",
    ],
    "reward-contact": ["投诉举报电话：{phone}", "来稿请投：{email}", "随手赞赏，鼓励原创", "WeChat: {acct}"],
    "credit": [
        "责编：{name}  终审：{name2}",
        "监制｜{name}",
        "（{org}记者 {name}）",
        "Editor: {en}",
        "撰稿：{name}",
    ],
    "reading-prompt": ["戳这里，阅读全文", "▼点击阅读全文▼", "Keep reading below"],
    "navigation": ["首页 > 新闻中心 > 正文", "【收藏】【打印】【关闭】", "Share this article"],
    "metadata": [
        "时间：{date} 来源：{org} 作者：{name}",
        "{date} | 阅读数：{n}",
        "Last updated: {date}",
        "发稿时间：{date} 14:20",
    ],
}
VARIANTS = {kind: UNSEEN[kind] + VARIANTS_2[kind] for kind in UNSEEN}
POOLS = {"seen": SEEN, "variants": VARIANTS, "held-out": HELD_OUT}
HEAD_KINDS = ("metadata", "credit")
MID_KINDS = ("qr-follow", "reading-prompt")
TAIL_KINDS = (
    "disclaimer",
    "qr-follow",
    "reward-contact",
    "credit",
    "reading-prompt",
    "navigation",
    "metadata",
)
HEAD_ONLY = {"阅读 10万+", "{date} 09:30 浏览次数：{n}", "{date} | 阅读数：{n}"}
DATELINES = {
    "seen": ["新华社北京{m}月{d}日电（记者{name}）", "〔記者{name}／台北報導〕", "{acct}讯 "],
    "variants": [
        "中新网{city}{m}月{d}日电 (记者 {name})",
        "（中央社記者{name}台北{d}日電）",
        "本报讯（通讯员 {name}）",
        "光明网讯（记者 {name}）",
        "香港中通社{m}月{d}日电 ",
        "SHANGHAI, March {d} (Xinhua) -- ",
    ],
    "held-out": ["新华网北京{m}月{d}日电 ", "【环球时报综合报道】", "TAIPEI, Jan. {d} (CNA) - "],
}
END_MARKERS = {
    "seen": ["- END -", "（完）", "—完—"],
    "variants": ["【完】", "===END===", "-THE END-", "— THE END —", "（全文完）", "[完]"],
    "held-out": ["·END·", "（本文完）", "- 完 -"],
}
RELATED = {
    "seen": ["相关新闻：", "【延伸閱讀】", "推荐阅读"],
    "variants": [
        "▼ 推荐阅读 ▼",
        "猜你喜欢",
        "往期精彩回顾",
        "【相关阅读】",
        "更多精彩，请看：",
        "Related stories",
    ],
    "held-out": ["热门文章推荐", "【往期回顾】", "More from this section"],
}
POOL_WEIGHTS = {"seen": 0.5, "variants": 0.25, "held-out": 0.25}


class Filler:
    """Fills template slots with varied names, dates and titles."""

    def __init__(self, rng: random.Random, titles: list[str]) -> None:
        self.rng = rng
        self.titles = titles

    def __call__(self, template: str) -> str:
        rng = self.rng
        name, name2 = rng.sample(NAMES, 2)
        en, en2 = rng.sample(EN_NAMES, 2)
        return template.format(
            name=name,
            name2=name2,
            en=en,
            en2=en2,
            org=rng.choice(ORGS),
            acct=rng.choice(ACCOUNTS),
            email=rng.choice(EMAILS),
            phone=rng.choice(PHONES),
            title=rng.choice(self.titles)[:24],
            date=f"20{rng.randint(18, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            m=rng.randint(1, 12),
            d=rng.randint(1, 28),
            n=rng.randint(100, 99999),
            city=rng.choice(["北京", "上海", "广州", "成都"]),
        )


def add_boilerplate(document: Document, rng: random.Random, fill: Filler) -> None:
    """Insert labelled boilerplate at realistic positions (in place)."""

    def pool() -> str:
        return rng.choices(list(POOL_WEIGHTS), weights=list(POOL_WEIGHTS.values()))[0]

    def pick(kinds: Iterable[str], where: str) -> Line:
        kind = rng.choice(list(kinds))
        name = pool()
        templates = POOLS[name][kind]
        if where != "head":
            templates = [t for t in templates if t not in HEAD_ONLY] or templates
        return Line(fill(rng.choice(templates)), kind, name)

    lines = document.lines
    body_at = [n for n, line in enumerate(lines) if line.text.strip() and line.label == BODY]
    if not body_at:
        return
    first = body_at[0]
    if rng.random() < 0.3 and not lines[first].prefix:
        name = pool()
        prefix = fill(rng.choice(DATELINES[name]))
        lines[first] = Line(prefix + lines[first].text.lstrip(), BODY, name, prefix=prefix)
    if len(body_at) >= 6 and rng.random() < 0.15:
        middle = body_at[len(body_at) // 2]
        lines.insert(middle, pick(MID_KINDS, "mid"))
    if rng.random() < 0.3:
        for _ in range(rng.randint(1, 2)):
            lines.insert(0, pick(HEAD_KINDS, "head"))
    end = len(lines)
    while end and (not lines[end - 1].text.strip() or lines[end - 1].label != BODY):
        end -= 1  # add after the article's last body line, before its real footer
    footer: list[Line] = []
    if rng.random() < 0.6:
        footer += [pick(TAIL_KINDS, "tail") for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.25:
        name = pool()
        if rng.random() < 0.5:
            footer.append(Line(rng.choice(END_MARKERS[name]), "end-marker", name))
        else:
            footer.append(Line(rng.choice(RELATED[name]), "related-teaser", name))
        for _ in range(rng.randint(2, 4)):
            footer.append(
                Line(rng.choice(fill.titles)[: rng.randint(18, 40)] + "...", "related-teaser", name)
            )
    lines[end:end] = footer


def build(shared: Path, *, stories: int = 1000, seed: int = 20240601) -> list[Document]:
    rng = random.Random(seed)
    documents = xwlb_documents(shared, stories, rng) + tw_documents(shared)
    titles = [
        next(
            (line.text.strip() for line in d.lines if line.label == BODY and len(line.text.strip()) > 20), ""
        )
        for d in documents
    ]
    fill = Filler(rng, [title for title in titles if title])
    for document in documents:
        add_boilerplate(document, rng, fill)
    return documents


# --- scoring --------------------------------------------------------------------


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    prefixes_expected: int = 0
    prefixes_exact: int = 0
    prefixes_wrong: int = 0
    by_kind: Counter = field(default_factory=Counter)  # (kind, pool, found?) -> lines
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def recall_of(self, pool: str | None = None, kind: str | None = None) -> tuple[float, int]:
        found = total = 0
        for (line_kind, line_pool, hit), count in self.by_kind.items():
            if (pool is None or line_pool == pool) and (kind is None or line_kind == kind):
                total += count
                found += count if hit else 0
        return (found / total if total else 1.0), total


def score(documents: list[Document], find: Callable[[str], list]) -> Score:
    """Line-level scores of ``find`` (text -> removals with .line, .prefix, .text, .rule) on the set."""
    result = Score()
    for document in documents:
        removals = find(document.text)
        removed = {r.line: r for r in removals if not r.prefix}
        prefixes = {r.line: r for r in removals if r.prefix}
        for number, line in enumerate(document.lines):
            if not line.text.strip():
                continue
            is_boilerplate = line.label != BODY
            hit = number in removed
            if is_boilerplate:
                result.tp += hit
                result.fn += not hit
                result.by_kind[(line.label, line.pool, hit)] += 1
            else:
                result.fp += hit
                result.tn += not hit
                if hit:
                    result.false_positives.append((document.source, removed[number].rule, line.text.strip()))
                if line.prefix:
                    result.prefixes_expected += 1
                if number in prefixes:
                    exact = line.prefix and prefixes[number].text.strip() == line.prefix.strip()
                    result.prefixes_exact += bool(exact)
                    result.prefixes_wrong += not exact
    return result
