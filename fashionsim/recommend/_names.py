"""Layer names shared by the models and the scoring code (kept here so scoring imports no Keras)."""

USER_EMBEDDING = "user_embedding"
ITEM_TOWER = "item_tower"
