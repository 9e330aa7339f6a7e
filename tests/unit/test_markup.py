from knowledge.markup import clean_markup


def test_slack_user_mention_is_removed() -> None:
    assert clean_markup("<@U024BE7LH> how do I renew a book?") == "how do I renew a book?"


def test_slack_link_keeps_its_label() -> None:
    assert clean_markup("is <https://library.nhs.uk|the Hub> down?") == "is the Hub down?"


def test_slack_link_without_label_keeps_its_address() -> None:
    assert clean_markup("see <https://www.hlisd.org>") == "see https://www.hlisd.org"


def test_teams_at_tag_is_removed() -> None:
    assert clean_markup("<at>Evidence Desk</at> reset athens password") == "reset athens password"


def test_emoji_codes_are_dropped_but_times_survive() -> None:
    assert clean_markup("thanks :tada: see you at 10:30:00") == "thanks see you at 10:30:00"


def test_html_entities_from_slack_are_unescaped() -> None:
    assert clean_markup("A&amp;E &lt;urgent&gt;") == "A&E <urgent>"


def test_bold_and_italic_marks_are_removed() -> None:
    assert clean_markup("*urgent* _please_ help") == "urgent please help"


def test_special_mentions_and_channels_are_removed() -> None:
    assert clean_markup("<!here> ask in <#C0123|library-help>") == "ask in library-help"
