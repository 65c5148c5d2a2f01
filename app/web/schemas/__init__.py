"""web/schemas"""
