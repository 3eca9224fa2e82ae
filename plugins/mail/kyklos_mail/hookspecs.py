"""The hooks the mail plugin calls: how other plugins (a helpdesk, a recruiting
plugin...) turn an incoming message into their records without mail knowing them."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kyklos")


class MailSpecs:
    @hookspec
    def kyklos_mail_file_message(self, request, mailbox, message, parsed, filed):
        """A message was fetched and matched to people and accounts (``filed``: the
        list of ``(entity type name, record id)`` so far). Return further
        ``(entity type name, record id)`` pairs the message belongs to (a case created
        from it, the opportunity its subject names), or ``None``.

        Called inside the fetch's transaction for that batch: records created here
        commit with the ledger entry, so a crash never leaves one without the other.
        ``mailbox`` and ``message`` are the plugin's models; ``parsed`` the
        :class:`kyklos_mail.parse.Parsed` message (headers, bodies, attachments)."""

    @hookspec(firstresult=True)
    def kyklos_mail_support_message(self, request, mailbox, message, parsed):
        """A message arrived in a mailbox marked "support" (or a mailbox rule asks
        for a case): open a case for it, or add it to the case it answers (its subject
        quotes the case's number, e.g. ``Re: [CS-2026-00042] ...``). Return the
        ``(entity type name, record id)`` the message is filed to, or ``None`` when
        the implementation declines it.

        ``request`` acts as the mailbox's owner (their permissions apply); it runs in
        the batch's transaction under a savepoint: an exception undoes only what the
        implementation wrote, and the ledger keeps the message with the reason.
        Implemented by at most one plugin (the first result wins)."""

    @hookspec(firstresult=True)
    def kyklos_mail_subject_tag(self, request, entity, record_id):
        """The tag a reply about the record ``(entity, record_id)`` carries in its
        subject so that the answer comes back to it, e.g. ``"[CS-2026-00042]"``, or
        ``None``. Called when a reply is written to a message filed to that record."""

    @hookspec
    def kyklos_mail_bounce_received(
        self, request, address, kind, permanent, reason, original_message_id
    ):
        """A delivery status notification or a spam complaint arrived in a mailbox
        (it is accounted for in the ledger, not filed as mail): ``address`` could not
        be delivered to (``kind`` "bounce"; ``permanent`` for a hard bounce, ``False``
        for a delay or a full mailbox) or its owner marked the message as spam
        (``kind`` "complaint"). ``reason`` is the server's status and words;
        ``original_message_id`` the ``<Message-ID>`` of the message it is about when
        the report quotes it, else ``""``.

        Called once per address, in the fetch's transaction under a savepoint (an
        exception undoes only what the implementation wrote); ``request`` acts as the
        mailbox's owner."""

    @hookspec
    def kyklos_mail_message_filed(self, request, mailbox, message, parsed, filed):
        """An incoming message was stored (a mail record) and filed: ``filed`` is the
        list of ``(entity type name, record id)`` it was filed to, possibly empty (no
        match, or a mailbox rule that skips filing). For what follows from a message
        rather than where it belongs: the campaigns plugin records a reply to one of
        its e-mails (its In-Reply-To / References name the campaign's Message-ID) as
        that recipient's response. Returns nothing.

        Called once per stored message, reports (bounces, complaints) excepted, in the
        fetch's transaction under a savepoint: an exception undoes only what the
        implementations wrote, and the ledger names it in the reason. ``request`` acts
        as the mailbox's owner; ``mailbox``, ``message`` and ``parsed`` as for
        ``kyklos_mail_file_message``."""

    @hookspec
    def kyklos_mail_recipients(self, request, entity_type, record):
        """More people to offer when a user writes an e-mail from ``record`` (of
        ``entity_type``, a type declared ``about=True`` other than a person or an
        account): a list of ``(address, label)`` pairs, or ``None``. Only for addresses
        the record's own fields do not give: the mail plugin already offers the record's
        e-mail fields, the people and accounts its reference fields name and the people
        of its related lists. What it returns also offers "Write an e-mail" on a record
        whose fields name nobody. Return only what ``request``'s user may read."""
