"""The words the index holds, for typo corrections; and the synonyms editors maintain."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Left, Length, Lower


class SearchWord(models.Model):
    """A word of the index's vocabulary (names, summaries, tags), rebuilt with each refresh."""

    word = models.TextField(primary_key=True)
    documents = models.IntegerField(help_text="how many items hold the word")

    class Meta:
        db_table = "catalog_searchword"
        # Spelling candidates share the first letter and are within two
        # letters of the typed length (catalog/search/query.py): a range of
        # this index, a few thousand words even in a vocabulary of 770,000.
        # Completions of a word being typed are a range of the primary key's
        # text_pattern_ops index, which Django adds for a text primary key.
        indexes = [models.Index(Left("word", 1), Length("word"), name="searchword_shape")]

    def __str__(self) -> str:
        return self.word


class Synonym(models.Model):
    """Words that mean the same to a searcher; a query for one finds the others."""

    words = models.CharField(
        max_length=500,
        help_text="Two or more words or names, separated by commas: postgres, postgresql, pgsql",
    )

    class Meta:
        db_table = "catalog_synonym"
        constraints = [models.UniqueConstraint(Lower("words"), name="synonym_words_unique_ci")]

    def __str__(self) -> str:
        return self.words

    def clean(self) -> None:
        if len(self.word_list()) < 2:
            raise ValidationError({"words": "Give at least two words, separated by commas."})

    def word_list(self) -> list[str]:
        return [word.strip().lower() for word in self.words.split(",") if word.strip()]
